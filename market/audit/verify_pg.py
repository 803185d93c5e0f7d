"""Verifying from PostgreSQL at the speed of reading: `COPY … TO STDOUT (FORMAT binary)`,
checked as it is parsed.

Each row is read by position (no row objects, no JSON), then checked in place: its content
hashes to its stored leaf hash, the tree's level-0 tile holds that leaf at its seq, its MAC
verifies (given the keys), and its index columns are the values its leaf starts and ends with.
An intact row only grows the tree (`LogVerifier.feed_intact`); any other goes through the
verifier's full classification, which names what is wrong.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from market.audit.macs import macers
from market.audit.merkle import HASH_SIZE
from market.audit.records import index_disagreement
from market.audit.report import VerificationReport
from market.audit.tiles import WIDTH
from market.audit.verify import LogVerifier

COLUMNS = "seq, id, leaf_hash, mac, mac_key_id, created_at, leaf, actor, action, subject_type, subject_id"
ENTRIES = f"SELECT {COLUMNS} FROM audit_entries WHERE seq IS NOT NULL ORDER BY seq"  # noqa: S608
TILES_AHEAD = 64  # level-0 tiles fetched at a time (16,384 leaves)
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_HEAD = struct.Struct(">hiqiqi32si")  # fields, seq, id, leaf_hash, then the MAC's length
_I32 = struct.Struct(">i").unpack_from
_I64 = struct.Struct(">q").unpack_from
_TS_LEAF = struct.Struct(">iqi")  # created_at, then the leaf's length


class Timestamps:
    """RFC 3339 UTC text of PostgreSQL's binary timestamps, as leaves write them."""

    def __init__(self) -> None:
        self._seconds: dict[int, bytes] = {}

    def __call__(self, micros_since_2000: int) -> bytes:
        seconds, micros = divmod(micros_since_2000, 1_000_000)
        base = self._seconds.get(seconds)
        if base is None:
            if len(self._seconds) > 100_000:
                self._seconds.clear()
            moment = PG_EPOCH + timedelta(seconds=seconds)
            base = self._seconds[seconds] = moment.strftime("%Y-%m-%dT%H:%M:%S").encode()
        return b"%s.%06dZ" % (base, micros)


def columns_disagree(
    report: VerificationReport,
    seq: int,
    leaf: bytes,
    created: bytes,
    texts: tuple[bytes, bytes, bytes, bytes],
) -> None:
    """Report the index column that does not say what the leaf says (the slow, exact check)."""
    actor, action, subject_type, subject_id = texts
    shown = {
        "created_at": datetime.fromisoformat(created.decode().replace("Z", "+00:00")),
        "actor": actor.decode(errors="replace"),
        "action": action.decode(errors="replace"),
        "subject_type": subject_type.decode(errors="replace"),
        "subject_id": subject_id.decode(errors="replace"),
    }
    disagreement = index_disagreement(leaf, shown)
    if disagreement is not None:
        report.fail(seq, "edited", disagreement)


class CopyChecker:
    """Consumes the COPY stream chunk by chunk (rows may straddle chunks)."""

    def __init__(
        self,
        verifier: LogVerifier,
        fetch_tiles: Callable[[int, int], Awaitable[dict[int, bytes]]],
        mac_keys: Mapping[str, bytes] | None,
        mac_required_from: int,
        progress: Any = None,
    ) -> None:
        self.verifier, self._fetch, self._progress = verifier, fetch_tiles, progress
        self._keys = None if mac_keys is None else {k.encode(): m for k, m in macers(mac_keys).items()}
        self._mac_from = mac_required_from
        self._times = Timestamps()
        self._tiles: dict[int, bytes] = {}
        self._until = 0  # seqs below this are covered by the tiles fetched
        self._rest = b""
        self._started = False
        self._reported = 0

    async def consume(self, chunk: bytes) -> None:
        buf = self._rest + bytes(chunk) if self._rest else bytes(chunk)
        off = 0
        if not self._started:
            if len(buf) < 19:
                self._rest = buf
                return
            off, self._started = 19 + _I32(buf, 15)[0], True  # signature, flags, header extension
        while True:
            off, need = self._rows(buf, off)
            if need is None:
                break
            self._tiles = await self._fetch(need // WIDTH, need // WIDTH + TILES_AHEAD)
            self._until = (need // WIDTH + TILES_AHEAD) * WIDTH
        self._rest = buf[off:]

    def _rows(self, buf: bytes, off: int) -> tuple[int, int | None]:
        """Check the complete rows from `off`; returns where the rest starts, and the seq whose
        tiles must be fetched first if that is why it stopped. One loop, everything local: it
        runs once per entry of the log."""
        verifier, keys, mac_from, times = self.verifier, self._keys, self._mac_from, self._times
        end, head, i32, ts_leaf, sha256 = (
            len(buf),
            _HEAD.unpack_from,
            _I32,
            _TS_LEAF.unpack_from,
            hashlib.sha256,
        )
        tiles, until, tile_index, tile = self._tiles, self._until, -1, b""
        first = expected = verifier.expected_seq
        intact: list[bytes] = []
        macs = 0
        need: int | None = None
        while off + 66 <= end:
            fields, _, seq, _, entry_id, hash_len, stored, mac_len = head(buf, off)
            if fields != 11:
                break  # the trailer
            if seq >= until:
                need = seq
                break
            try:
                if hash_len != HASH_SIZE or mac_len not in (-1, HASH_SIZE):
                    if _complete(buf, off, end) is None:
                        break
                    stored, (row_end, mac, key_id, created, leaf, texts) = _generic(buf, off)
                else:
                    at = off + 66
                    mac = buf[at : at + HASH_SIZE] if mac_len == HASH_SIZE else None
                    at += HASH_SIZE if mac_len == HASH_SIZE else 0
                    (size,) = i32(buf, at)
                    key_id = buf[at + 4 : at + 4 + size] if size >= 0 else None
                    at += 4 + size if size > 0 else 4
                    _, created, size = ts_leaf(buf, at)
                    leaf = buf[at + 16 : at + 16 + size]
                    at += 16 + size
                    (size,) = i32(buf, at)
                    actor = buf[at + 4 : at + 4 + size]
                    at += 4 + size
                    (size,) = i32(buf, at)
                    action = buf[at + 4 : at + 4 + size]
                    at += 4 + size
                    (size,) = i32(buf, at)
                    subject_type = buf[at + 4 : at + 4 + size]
                    at += 4 + size
                    (size,) = i32(buf, at)
                    subject_id = buf[at + 4 : at + 4 + size]
                    row_end = at + 4 + size
                    texts = (actor, action, subject_type, subject_id)
            except struct.error:
                break  # the rest of the row is in the next chunk
            if row_end > end:
                break
            if seq >> 8 != tile_index:
                tile_index = seq >> 8
                tile = tiles.get(tile_index, b"")
            good = (
                seq == expected
                and sha256(b"\x00" + leaf).digest() == stored
                and len(stored) == HASH_SIZE
                and tile.startswith(stored, (seq & 255) << 5)
            )
            if good and keys is not None and (mac is not None or seq >= mac_from):
                macer = keys.get(key_id) if key_id is not None else None
                good = macer is not None and mac is not None and macer(leaf) == mac
                macs += good
            stamp = times(created)
            actor, action, subject_type, subject_id = texts
            if not (
                leaf.startswith(b'{"action":"%s","actor":"%s","created_at":"%s"' % (action, actor, stamp))
                and leaf.endswith(
                    b',"subject_id":"%s","subject_type":"%s","v":' % (subject_id, subject_type), 0, -2
                )
            ):
                columns_disagree(verifier.report, seq, leaf, stamp, texts)
            if good:
                intact.append(stored)
                expected += 1
            else:  # the full classification, after what was intact before it
                verifier.feed_intact(first, intact, macs)
                in_tree = tile[(seq & 255) << 5 : ((seq & 255) + 1) << 5] or None
                key_text = None if key_id is None else key_id.decode(errors="replace")
                verifier.feed_many([(seq, leaf, stored, mac, key_text, entry_id, in_tree)])
                first = expected = verifier.expected_seq
                intact, macs = [], 0
            off = row_end
        verifier.feed_intact(first, intact, macs)
        if self._progress is not None:
            self._progress.update(verifier.report.entries - self._reported)
            self._reported = verifier.report.entries
        return off, need


def _complete(buf: bytes, off: int, end: int) -> int | None:
    """Where the row at `off` ends, by its fields' lengths; None if it is not all in `buf`."""
    at = off + 2
    for _field in range(11):
        if at + 4 > end:
            return None
        (size,) = _I32(buf, at)
        at += 4 + (size if size > 0 else 0)
        if at > end:
            return None
    return at


def _generic(
    buf: bytes, off: int
) -> tuple[bytes, tuple[int, bytes | None, bytes | None, int, bytes, tuple[bytes, bytes, bytes, bytes]]]:
    """A row of an unusual shape (a leaf hash of another length, say), read field by field:
    its stored leaf hash, and the rest as `CopyChecker._parse` gives it."""
    at, values = off + 2, []
    for _field in range(11):
        (size,) = _I32(buf, at)
        values.append(buf[at + 4 : at + 4 + size] if size >= 0 else None)
        at += 4 + (size if size > 0 else 0)
    created = _I64(values[5] or bytes(8))[0]
    texts = tuple(v or b"" for v in values[7:11])
    return values[2] or b"", (at, values[3], values[4], created, values[6] or b"", texts)  # type: ignore[return-value]


async def stream_entries(
    dsn: str,
    verifier: LogVerifier,
    mac_keys: Mapping[str, bytes] | None,
    mac_required_from: int,
    progress: Any = None,
) -> tuple[list[tuple[int, bytes | None, bytes, str | None, bytes]], int, list[tuple[int, str]]]:
    """Stream the sequenced entries into the verifier; return the entries still waiting to be
    sequenced, the tree size the log state records, and the quarantined entries."""
    main, side = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:

        async def fetch(first: int, last: int) -> dict[int, bytes]:
            rows = await side.fetch(
                "SELECT idx, hashes FROM audit_tiles WHERE level = 0 AND idx >= $1 AND idx < $2", first, last
            )
            return {int(r["idx"]): bytes(r["hashes"]) for r in rows}

        checker = CopyChecker(verifier, fetch, mac_keys, mac_required_from, progress)
        await main.copy_from_query(ENTRIES, output=checker.consume, format="binary")
        pending = [
            (int(r["id"]), r["mac"], r["leaf"].encode(), r["mac_key_id"], bytes(r["leaf_hash"]))
            for r in await side.fetch(
                "SELECT id, mac, leaf, mac_key_id, leaf_hash FROM audit_entries WHERE seq IS NULL"
            )
        ]
        size = int(await side.fetchval("SELECT coalesce(max(tree_size), 0) FROM audit_log_state") or 0)
        quarantined = [
            (int(r["id"]), str(r["reason"]))
            for r in await side.fetch("SELECT id, reason FROM audit_quarantine ORDER BY id")
        ]
        return pending, size, quarantined
    finally:
        await main.close()
        await side.close()
