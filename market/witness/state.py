"""A witness's memory: the latest checkpoint it cosigned for each log, in an SQLite file.

The check of a submission against this record and the update of it happen in one `BEGIN
IMMEDIATE` transaction, so two concurrent submissions can never roll a log back (the race the
tlog-witness spec describes), even across processes sharing the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cosigned:
    size: int
    root: bytes


class WitnessState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
            " root BLOB NOT NULL, checkpoint TEXT NOT NULL, cosigned_at INTEGER NOT NULL)"
        )

    @contextmanager
    def transaction(self) -> Iterator[WitnessState]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def latest(self, origin: str) -> Cosigned | None:
        row = self._db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else Cosigned(int(row[0]), bytes(row[1]))

    def record(self, origin: str, size: int, root: bytes, checkpoint: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO cosigned (origin, size, root, checkpoint, cosigned_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,"
            " checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at",
            (origin, size, root, checkpoint, at),
        )

    def close(self) -> None:
        self._db.close()
