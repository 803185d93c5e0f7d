"""`market audit verify` against the database: every entry, the tree's leaves, every signed head.

PostgreSQL is read with binary COPY (`market.audit.verify_pg`), the embedded SQLite file in
pages. For each entry the reader also checks, without parsing its JSON, that the indexed
columns (created_at, actor, action, subject) still say what the leaf says: the leaf starts and
ends with exactly those values; only an entry whose values need JSON escaping is parsed.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from market.audit.canonical import rfc3339_utc
from market.audit.macs import EntryKeyring
from market.audit.merkle import HASH_SIZE
from market.audit.note import Checkpoint
from market.audit.report import VerificationReport
from market.audit.tiles import WIDTH
from market.audit.tree_head import SignedTreeHead
from market.audit.verify import LogVerifier
from market.audit.verify_pg import COLUMNS, columns_disagree, stream_entries
from market.common.ed25519 import public_key_from_b64


def _prefix_and_suffix_agree(leaf: bytes, created: bytes, texts: tuple[bytes, bytes, bytes, bytes]) -> bool:
    actor, action, subject_type, subject_id = texts
    return leaf.startswith(
        b'{"action":"%s","actor":"%s","created_at":"%s"' % (action, actor, created)
    ) and leaf.endswith(b',"subject_id":"%s","subject_type":"%s","v":' % (subject_id, subject_type), 0, -2)


def _sqlite_time(stored: str) -> bytes:
    """RFC 3339 UTC (the leaf's form) of a time as SQLite holds it (naive UTC, microseconds)."""
    if len(stored) == 26:
        return stored.replace(" ", "T").encode() + b"Z"
    moment = datetime.fromisoformat(stored)
    return rfc3339_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC)).encode()


def _sqlite(
    path: str, verifier: LogVerifier, progress: Any
) -> tuple[list[tuple[int, bytes | None, bytes, str | None, bytes]], int, list[tuple[int, str]]]:
    """`verify_pg.stream_entries` for the embedded SQLite file (read in pages of 5,000)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        last = -1
        while rows := db.execute(
            f"SELECT {COLUMNS} FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT 5000",  # noqa: S608
            (last,),
        ).fetchall():
            first_tile, last_tile = rows[0][0] // WIDTH, rows[-1][0] // WIDTH
            tiles = dict(
                db.execute(
                    "SELECT idx, hashes FROM audit_tiles WHERE level = 0 AND idx BETWEEN ? AND ?",
                    (first_tile, last_tile),
                ).fetchall()
            )
            batch = []
            for seq, entry_id, stored, mac, key_id, created, leaf_text, *texts in rows:
                leaf = leaf_text.encode()
                when = _sqlite_time(created)
                actor, action, subject_type, subject_id = (s.encode() for s in texts)
                texts = (actor, action, subject_type, subject_id)
                if not _prefix_and_suffix_agree(leaf, when, texts):
                    columns_disagree(verifier.report, seq, leaf, when, texts)
                index, offset = divmod(seq, WIDTH)
                in_tree = tiles.get(index, b"")[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
                batch.append(
                    (seq, leaf, stored, mac, key_id, entry_id, in_tree if len(in_tree) == HASH_SIZE else None)
                )
            verifier.feed_many(batch)
            if progress is not None:
                progress.update(len(batch))
            last = rows[-1][0]
            if verifier.saturated:
                break
        pending = [
            (int(i), mac, leaf.encode(), key_id, bytes(digest))
            for i, mac, leaf, key_id, digest in db.execute(
                "SELECT id, mac, leaf, mac_key_id, leaf_hash FROM audit_entries WHERE seq IS NULL"
            )
        ]
        size = int(db.execute("SELECT coalesce(max(tree_size), 0) FROM audit_log_state").fetchone()[0])
        quarantined = [
            (int(i), str(r)) for i, r in db.execute("SELECT id, reason FROM audit_quarantine ORDER BY id")
        ]
        return pending, size, quarantined
    finally:
        db.close()


async def _heads_and_mac_start(url: str) -> tuple[list[SignedTreeHead], int]:
    from market.db.session import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT tree_size, root_hash, timestamp, signature, key_id FROM audit_tree_heads")
                )
            ).all()
            start = await conn.scalar(text("SELECT coalesce(max(mac_required_from), 0) FROM audit_log_state"))
    finally:
        await engine.dispose()
    heads = []
    for size, root_hash, when, signature, key_id in rows:
        when = datetime.fromisoformat(when) if isinstance(when, str) else when
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        heads.append(
            SignedTreeHead(
                tree_size=size, root_hash=root_hash, timestamp=when, signature=signature, key_id=key_id
            )
        )
    return heads, int(start or 0)


async def verify_database(
    database_url: str,
    public_key_b64: str,
    progress: Any = None,
    *,
    mac_keys: EntryKeyring | None = None,
    checkpoints: Iterable[Checkpoint] = (),
) -> VerificationReport:
    """Verify the whole log as stored: entries, their index columns, the tree's leaves, every
    signed head and the trusted `checkpoints`; with the MAC keys, every entry's writer (so the
    first entry whose content is wrong is named even after a consistent rewrite)."""
    heads, mac_from = await _heads_and_mac_start(database_url)
    verifier = LogVerifier(
        heads,
        public_key_from_b64(public_key_b64),
        checkpoints=checkpoints,
        mac_keys=None if mac_keys is None else mac_keys.keys,
        mac_required_from=mac_from,
    )
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        keys = None if mac_keys is None else mac_keys.keys
        pending, size, quarantined = await stream_entries(dsn, verifier, keys, mac_from, progress)
    else:
        pending, size, quarantined = await asyncio.to_thread(_sqlite, url.database or "", verifier, progress)
    report = verifier.finish()
    if size > report.tree_size and report.ok:
        report.fail(
            report.tree_size,
            "deleted",
            f"the tree holds {size} leaves but the log ends at {report.tree_size}",
        )
    if mac_keys is not None:
        for entry_id, mac, leaf, key_id, digest in pending:
            if not mac_keys.verifies(key_id, leaf, mac) or hashlib.sha256(b"\x00" + leaf).digest() != digest:
                report.forged_ids.append(entry_id)
                report.fail(
                    None, "forged", f"entry {entry_id}, waiting to be sequenced, carries no valid MAC"
                )
    report.notes += [f"entry {i} was refused and quarantined: {why}" for i, why in quarantined]
    return report
