"""Audit-log test data: entries as the writers make them, keys, signed heads, a reference MTH."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.canonical import entry_leaf, parse_leaf
from market.audit.merkle import leaf_hash, root
from market.audit.records import EntryRecord
from market.audit.tree_head import SignedTreeHead, sign_tree_head

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()
T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def entry(seq: int, note: str = "") -> EntryRecord:
    """Entry `seq` of a synthetic log, with the leaf and leaf hash a writer would store."""
    leaf = entry_leaf(
        created_at=T0 + timedelta(milliseconds=137 * seq),
        actor=f"user-{seq % 7}",
        action="order.paid",
        subject_type="order",
        subject_id=f"order-{seq}",
        payload={"amount_fen": 1000 + seq, "note": note or f"数据 #{seq}"},
        nonce=f"{seq:024x}",
    ).encode()
    return EntryRecord(seq, leaf, leaf_hash(leaf))


def entries(n: int) -> list[EntryRecord]:
    return [entry(i) for i in range(n)]


def _changed(record: EntryRecord, changes: dict[str, object]) -> tuple[int, bytes]:
    seq = int(changes.pop("seq", record.seq))  # type: ignore[call-overload]
    if not changes:
        return seq, record.leaf
    fields = {**asdict(parse_leaf(record.leaf)), "nonce": f"{record.seq:024x}", **changes}
    return seq, entry_leaf(**fields).encode()


def edited(record: EntryRecord, **changes: object) -> EntryRecord:
    """The record with fields changed but its stored leaf hash left alone: a clumsy forger."""
    seq, leaf = _changed(record, changes)
    return EntryRecord(seq, leaf, record.leaf_hash)


def rewritten(record: EntryRecord, **changes: object) -> EntryRecord:
    """The record with fields changed *and* its leaf hash recomputed: a careful forger."""
    seq, leaf = _changed(record, changes)
    return EntryRecord(seq, leaf, leaf_hash(leaf))


def head(records: Iterable[EntryRecord], key: Ed25519PrivateKey = KEY) -> SignedTreeHead:
    leaves = [r.leaf_hash for r in records]
    return sign_tree_head(len(leaves), root(leaves), T0 + timedelta(hours=1), key)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Reference:
    """RFC 9162 §2.1.1–2.1.4 transcribed literally (recursive MTH, PATH, PROOF), over leaf
    *data*, with MTH memoised per range so every size and index stays cheap to check."""

    def __init__(self, data: list[bytes]) -> None:
        self.data = data
        self.mth = lru_cache(maxsize=None)(self._mth)

    @staticmethod
    def k(n: int) -> int:  # the largest power of two smaller than n, found by counting
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, begin: int, end: int) -> bytes:
        n = end - begin
        if n == 0:
            return sha(b"")
        if n == 1:
            return sha(b"\x00" + self.data[begin])
        k = self.k(n)
        return sha(b"\x01" + self.mth(begin, begin + k) + self.mth(begin + k, end))

    def path(self, m: int, begin: int, end: int) -> list[bytes]:
        n = end - begin
        if n == 1:
            return []
        k = self.k(n)
        if m < k:
            return [*self.path(m, begin, begin + k), self.mth(begin + k, end)]
        return [*self.path(m - k, begin + k, end), self.mth(begin, begin + k)]

    def subproof(self, m: int, begin: int, end: int, complete: bool) -> list[bytes]:
        n = end - begin
        if m == n:
            return [] if complete else [self.mth(begin, end)]
        k = self.k(n)
        if m <= k:
            return [*self.subproof(m, begin, begin + k, complete), self.mth(begin + k, end)]
        return [*self.subproof(m - k, begin + k, end, False), self.mth(begin, begin + k)]
