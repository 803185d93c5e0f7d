"""`market audit verify` against the database: every entry, the tree's leaves, every signed head.

PostgreSQL streams the columns with `COPY … TO STDOUT (FORMAT binary)`, read by position, and
the level-0 tiles in ranges over a second connection; SQLite is read in pages. For each entry
the reader also checks, without parsing its JSON, that the indexed columns (created_at, actor,
action, subject) still say what the leaf says: the leaf starts and ends with exactly those
values; only an entry whose values need JSON escaping falls back to parsing.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import struct
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from market.audit.canonical import rfc3339_utc
from market.audit.macs import EntryKeyring
from market.audit.merkle import HASH_SIZE
from market.audit.note import Checkpoint
from market.audit.tiles import WIDTH
from market.audit.tree_head import SignedTreeHead
from market.audit.verify import LogVerifier, VerificationReport, index_disagreement
from market.registry.certificates import public_key_from_b64

COLUMNS = "seq, id, leaf_hash, mac, mac_key_id, created_at, leaf, actor, action, subject_type, subject_id"
ENTRIES = f"SELECT {COLUMNS} FROM audit_entries WHERE seq IS NOT NULL ORDER BY seq"  # noqa: S608
TILES_AHEAD = 64  # level-0 tiles fetched at a time (16,384 leaves)
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ROW_HEAD = struct.Struct(">hiqiqi32si")  # fields, seq, id, leaf_hash, then the MAC's length
_I32 = struct.Struct(">i").unpack_from
_TS_LEAF = struct.Struct(">iqi")  # created_at, then the leaf's length


class ColumnCheck:
    """Do the index columns say what the leaf says? Compares bytes; parses only on doubt."""

    def __init__(self, report: VerificationReport) -> None:
        self.report = report
        self._seconds: dict[int, bytes] = {}

    def timestamp(self, micros_since_2000: int) -> bytes:
        seconds, micros = divmod(micros_since_2000, 1_000_000)
        base = self._seconds.get(seconds)
        if base is None:
            if len(self._seconds) > 100_000:
                self._seconds.clear()
            moment = PG_EPOCH + timedelta(seconds=seconds)
            base = self._seconds[seconds] = moment.strftime("%Y-%m-%dT%H:%M:%S").encode()
        return b"%s.%06dZ" % (base, micros)

    def check(
        self, seq: int, leaf: bytes, created: bytes, columns: tuple[bytes, bytes, bytes, bytes]
    ) -> None:
        actor, action, subject_type, subject_id = columns
        prefix = b'{"action":"%s","actor":"%s","created_at":"%s"' % (action, actor, created)
        suffix = b',"subject_id":"%s","subject_type":"%s","v":' % (subject_id, subject_type)
        if leaf.startswith(prefix) and leaf[-len(suffix) - 2 : -2] == suffix:
            return
        shown = {
            "created_at": datetime.fromisoformat(created.decode().replace("Z", "+00:00")),
            "actor": actor.decode(),
            "action": action.decode(),
            "subject_type": subject_type.decode(),
            "subject_id": subject_id.decode(),
        }
        disagreement = index_disagreement(leaf, shown)
        if disagreement is not None:
            self.report.fail(seq, "edited", disagreement)


def _generic_row(buf: bytes, off: int) -> tuple[list[bytes | None], int] | None:
    """The 11 fields of the row at `off` by their lengths (for rows the fast path cannot
    read: a leaf hash of the wrong length, say); None if the row is not complete yet."""
    at, end = off + 2, len(buf)
    fields: list[bytes | None] = []
    for _field in range(11):
        if at + 4 > end:
            return None
        (size,) = _I32(buf, at)
        at += 4
        if size < 0:
            fields.append(None)
            continue
        if at + size > end:
            return None
        fields.append(buf[at : at + size])
        at += size
    return fields, at


def _parse_rows(
    buf: bytes, off: int, tree: TreeLeaves, columns: ColumnCheck
) -> tuple[list[Any], int, int | None]:
    """Complete rows of a binary COPY stream from `off`: (rows, where the rest starts, the seq
    whose tree leaves must be fetched before going on, if that is why it stopped)."""
    rows: list[Any] = []
    end, head, i32, ts_leaf = len(buf), _ROW_HEAD.unpack_from, _I32, _TS_LEAF.unpack_from
    check, timestamp, tree_at, until = columns.check, columns.timestamp, tree.at, tree.until
    while off + _ROW_HEAD.size <= end:
        fields, _, seq, _, entry_id, hash_len, stored, mac_len = head(buf, off)
        if fields != 11:
            return rows, off, None  # the trailer
        if seq >= until:
            return rows, off, seq
        if hash_len != HASH_SIZE or mac_len not in (-1, HASH_SIZE):
            parsed = _generic_row(buf, off)
            if parsed is None:
                return rows, off, None
            values, off = parsed
            rows.append(_odd_row(values, columns, tree_at))
            continue
        at = off + _ROW_HEAD.size
        mac = buf[at : at + mac_len] if mac_len > 0 else None
        at += max(mac_len, 0)
        if at + 4 > end:
            return rows, off, None
        (key_len,) = i32(buf, at)
        key_id = buf[at + 4 : at + 4 + key_len].decode() if key_len >= 0 else None
        at += 4 + max(key_len, 0)
        if at + 16 > end:
            return rows, off, None
        _, created, leaf_len = ts_leaf(buf, at)
        leaf = buf[at + 16 : at + 16 + leaf_len]
        at += 16 + leaf_len
        texts = []
        for _column in range(4):
            if at + 4 > end:
                return rows, off, None
            (size,) = i32(buf, at)
            texts.append(buf[at + 4 : at + 4 + max(size, 0)])
            at += 4 + max(size, 0)
        if at > end:
            return rows, off, None
        check(seq, leaf, timestamp(created), (texts[0], texts[1], texts[2], texts[3]))
        rows.append((seq, leaf, stored, mac, key_id, entry_id, tree_at(seq)))
        off = at
    return rows, off, None


def _odd_row(values: list[bytes | None], columns: ColumnCheck, tree_at: Callable[[int], bytes | None]) -> Any:
    seq = struct.unpack(">q", values[0] or b"")[0]
    created = columns.timestamp(struct.unpack(">q", values[5] or b"")[0])
    leaf = values[6] or b""
    texts = tuple(v or b"" for v in values[7:11])
    columns.check(seq, leaf, created, texts)  # type: ignore[arg-type]
    key = values[4]
    entry_id = struct.unpack(">q", values[1] or b"")[0]
    return (
        seq,
        leaf,
        values[2] or b"",
        values[3],
        None if key is None else key.decode(),
        entry_id,
        tree_at(seq),
    )


class TreeLeaves:
    """The tree's leaf at each seq, from level-0 tiles fetched ahead in ranges."""

    def __init__(self, fetch: Callable[[int, int], Awaitable[dict[int, bytes]]]) -> None:
        self._fetch = fetch  # (first tile, end tile) -> {index: hashes}
        self.until = 0  # seqs below this are covered by the tiles fetched
        self.tiles: dict[int, bytes] = {}

    async def ensure(self, seq: int) -> None:
        first = seq // WIDTH
        self.tiles = await self._fetch(first, first + TILES_AHEAD)
        self.until = (first + TILES_AHEAD) * WIDTH

    def at(self, seq: int) -> bytes | None:
        index, offset = divmod(seq, WIDTH)
        leaf = self.tiles.get(index, b"")[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        return leaf if len(leaf) == HASH_SIZE else None


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg(
    url: str, verifier: LogVerifier, columns: ColumnCheck, progress: Any
) -> tuple[list[tuple[int, bytes | None, bytes, str | None, bytes]], int, list[tuple[int, str]]]:
    """Stream the sequenced entries into the verifier; return the pending entries, the tree
    size in the log state and the quarantined entries."""
    main, side = await asyncpg.connect(_dsn(url)), await asyncpg.connect(_dsn(url))
    try:

        async def fetch(first: int, last: int) -> dict[int, bytes]:
            rows = await side.fetch(
                "SELECT idx, hashes FROM audit_tiles WHERE level = 0 AND idx >= $1 AND idx < $2", first, last
            )
            return {int(r["idx"]): bytes(r["hashes"]) for r in rows}

        tree = TreeLeaves(fetch)
        state: dict[str, Any] = {"buf": b"", "started": False}

        async def consume(chunk: bytes) -> None:
            buf = state["buf"] + bytes(chunk)
            off = 0
            if not state["started"]:
                if len(buf) < 19:
                    state["buf"] = buf
                    return
                off, state["started"] = 19 + _I32(buf, 15)[0], True  # signature, flags, extension
            while True:
                rows, off, need = _parse_rows(buf, off, tree, columns)
                if rows:
                    verifier.feed_many(rows)
                    if progress is not None:
                        progress.update(len(rows))
                if need is None:
                    break
                await tree.ensure(need)
            state["buf"] = buf[off:]

        await main.copy_from_query(ENTRIES, output=consume, format="binary")
        pending = [
            (r["id"], r["mac"], r["leaf"].encode(), r["mac_key_id"], bytes(r["leaf_hash"]))
            for r in await side.fetch(
                "SELECT id, mac, leaf, mac_key_id, leaf_hash FROM audit_entries WHERE seq IS NULL"
            )
        ]
        size = int(await side.fetchval("SELECT coalesce(max(tree_size), 0) FROM audit_log_state") or 0)
        quarantined = [
            (int(r["id"]), r["reason"])
            for r in await side.fetch("SELECT id, reason FROM audit_quarantine ORDER BY id")
        ]
        return pending, size, quarantined
    finally:
        await main.close()
        await side.close()


def _sqlite_time(stored: str) -> bytes:
    """RFC 3339 UTC (the leaf's form) of a time as SQLite holds it (naive UTC, microseconds)."""
    if len(stored) == 26:
        return stored.replace(" ", "T").encode() + b"Z"
    moment = datetime.fromisoformat(stored)
    return rfc3339_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC)).encode()


def _sqlite(
    path: str, verifier: LogVerifier, columns: ColumnCheck, progress: Any
) -> tuple[list[tuple[int, bytes | None, bytes, str | None, bytes]], int, list[tuple[int, str]]]:
    """The same as `_pg`, for the embedded SQLite file (read in pages of 5,000)."""
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
                columns.check(seq, leaf, when, (actor, action, subject_type, subject_id))
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
    columns = ColumnCheck(verifier.report)
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        pending, size, quarantined = await _pg(database_url, verifier, columns, progress)
    else:
        pending, size, quarantined = await asyncio.to_thread(
            _sqlite, url.database or "", verifier, columns, progress
        )
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
