"""Offline verification of the audit log: streaming, O(log n) memory, pure (no database).

For each entry, in the order given (readers give `ORDER BY seq`):
- its stored leaf bytes are hashed and compared with its stored `leaf_hash` → "edited";
- its `seq` must be the next one: a jump → "deleted" (upgraded to "reordered" if the missing
  seq turns up later in the stream), a seq already passed → "inserted" (left out of the tree so
  the rest of the log still checks);
- when the tree's own leaf at that seq is known (a level-0 tile), the entry must be that leaf →
  "reordered" once the row is seen to belong at another seq, else "edited";
- with the audit MAC keys, its MAC must verify → "forged", naming the entry's id: this finds the
  first wrong entry even when its content, leaf hash and the whole tree were rewritten to match;
- the stored leaf hashes feed the tree's right frontier, so at every size where a signed head
  or a trusted checkpoint exists, its root is checked → "root_mismatch" (a range: an entry in
  [last size whose root matched, this size) is not what was signed) or "bad_signature". A head
  the log never reaches → "deleted".

The report names every problem (up to `max_problems`) and one primary finding: the entry-level
problem with the smallest seq if any (`first_bad_seq`), otherwise the first head-level one
(`bad_range`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from market.audit.macs import macers
from market.audit.merkle import fold_right
from market.audit.note import Checkpoint
from market.audit.records import EntryRecord
from market.audit.report import VerificationReport
from market.audit.tree_head import SignedTreeHead, verify_tree_head

PROGRESS_EVERY = 1 << 16
MAX_PENDING = 1024  # unmatched tree-leaf mismatches remembered to recognise a swap


@dataclass(frozen=True)
class _Anchor:
    """A size at which the root is known: a JSON head (signature checked when reached) or a
    checkpoint whose signature the caller already checked."""

    size: int
    root_hex: str
    head: SignedTreeHead | None = None


class LogVerifier:
    """Incremental verifier: `feed_many` / `feed` entries in log order, then `finish`.

    State is the tree's right frontier (≤ 64 hashes), a few counters and the anchors."""

    def __init__(
        self,
        heads: Iterable[SignedTreeHead],
        public_key: Ed25519PublicKey | None,
        max_problems: int = 20,
        *,
        checkpoints: Iterable[Checkpoint] = (),
        mac_keys: Mapping[str, bytes] | None = None,
        mac_required_from: int = 0,
    ) -> None:
        self.report = VerificationReport(max_problems=max_problems)
        self._public_key = public_key
        anchors = [_Anchor(h.tree_size, h.root_hash, h) for h in heads]
        anchors += [_Anchor(c.size, c.root.hex()) for c in checkpoints]
        self._heads = sorted(anchors, key=lambda a: a.size)
        self._mac_keys = None if mac_keys is None else macers(mac_keys)
        self._mac_from = mac_required_from
        self._macs_verified = 0
        # MACs under key ids not held here: forged if other MACs verify (so the keys are this
        # log's), else these are simply not this log's keys and nothing can be said.
        self._unknown_keys: list[tuple[int, int | None, str | None]] = []
        self._next_head = 0
        self._frontier: list[bytes] = []
        self._size = 0
        self._expected = 0
        self._gap: tuple[int, int] | None = None  # first seq jump seen, [start, end)
        self._signed_size = 0  # size of the last anchor whose root matched
        self._stopped = False  # gave up at max_problems: later heads are unchecked, not unmet
        # Tree-leaf mismatches awaiting a partner: row leaf -> its seq, tree leaf -> its seq.
        self._unplaced: dict[bytes, int] = {}
        self._displaced: dict[bytes, int] = {}
        self._check_heads()  # anchors of size 0

    @property
    def expected_seq(self) -> int:
        """The sequence number the next entry should carry."""
        return self._expected

    @property
    def saturated(self) -> bool:
        return self.report.problem_count >= self.report.max_problems

    def _next_size(self) -> int:
        heads = self._heads
        return heads[self._next_head].size if self._next_head < len(heads) else -1

    def _signed(self, anchor: _Anchor) -> bool:
        if anchor.head is None:
            return True
        return self._public_key is not None and verify_tree_head(anchor.head, self._public_key)

    def _check_heads(self) -> int:
        """Check every anchor of exactly the current size; return the next size to stop at."""
        heads, size, report = self._heads, self._size, self.report
        bound = self._signed_size  # last size below this one whose root matched
        # Anchors are sorted and the size grows by one, so every anchor is met exactly here.
        while self._next_head < len(heads) and heads[self._next_head].size == size:
            anchor = heads[self._next_head]
            self._next_head += 1
            report.heads_checked += 1
            if not self._signed(anchor):
                report.fail(None, "bad_signature", f"the head at size {anchor.size} is not ours")
            elif fold_right(self._frontier).hex() != anchor.root_hex:
                report.fail(
                    None,
                    "root_mismatch",
                    f"the root at size {size} differs from the signed one: an entry in "
                    f"[{bound}, {size}) was changed, removed, added or moved",
                    (bound, size),
                )
            else:
                self._signed_size = size
        return self._next_size()

    def _out_of_sequence(self, seq: int, expected: int) -> tuple[int, bool]:
        """Classify a seq that is not the expected one; return (new expected, keep entry)."""
        report = self.report
        if seq > expected:
            report.fail(expected, "deleted", f"the sequence jumps from {expected - 1} to {seq}")
            if self._gap is None:
                self._gap = (expected, seq)
            return seq + 1, True
        gap = self._gap
        if gap is not None and gap[0] <= seq < gap[1]:
            detail = f"seq {seq} arrives after seq {gap[1]}"
            report.fail(gap[0], "reordered", detail)
            if (report.first_bad_seq, report.kind) == (gap[0], "deleted"):
                report.kind, report.detail = "reordered", detail  # not gone after all: moved
            return expected, True
        report.fail(seq, "inserted", f"sequence number {seq} appears again")
        return expected, False

    def _misplaced(self, seq: int, leaf: bytes, in_tree: bytes) -> None:
        """The tree holds another leaf at `seq`. If this leaf belongs at a seq already passed,
        or the tree's leaf here turned up earlier, rows were moved ("reordered"); until such a
        partner is seen it counts as "edited" (content rewritten with its leaf hash)."""
        report = self.report
        moved_from = self._displaced.pop(leaf, None)  # a seq whose tree leaf is this one
        partner = self._unplaced.pop(in_tree, None)  # an earlier row that belongs here
        if partner is not None:
            report.fail(partner, "reordered", f"the row at seq {partner} belongs at seq {seq}")
            if (report.first_bad_seq, report.kind) == (partner, "edited"):
                report.kind = "reordered"
                report.detail = f"the row at seq {partner} belongs at seq {seq}"
        if moved_from is not None:
            report.fail(seq, "reordered", f"the row at seq {seq} belongs at seq {moved_from}")
            return
        report.fail(seq, "edited", "the tree holds another leaf at this seq")
        if len(self._unplaced) < MAX_PENDING:  # bounded: memory stays O(1)
            self._unplaced[leaf] = seq
            self._displaced[in_tree] = seq

    def _forged(self, seq: int, entry_id: int | None) -> None:
        if entry_id is not None and len(self.report.forged_ids) < self.report.max_problems:
            self.report.forged_ids.append(entry_id)
        named = f"entry {entry_id}" if entry_id is not None else "the entry"
        self.report.fail(seq, "forged", f"{named} carries no valid MAC: the service did not write it")

    def feed_intact(self, first_seq: int, leaf_hashes: list[bytes], macs_verified: int = 0) -> None:
        """Entries `first_seq`, `first_seq + 1`, … that the caller has already checked one by
        one (content, MAC, tree leaf), given by their leaf hashes: only the tree grows here.
        The fast path of readers that check as they parse."""
        if first_seq != self._expected:
            raise ValueError(f"intact entries must start at seq {self._expected}, not {first_seq}")
        sha256 = hashlib.sha256
        frontier = self._frontier
        push, pop = frontier.append, frontier.pop
        size, next_size = self._size, self._next_size()
        for stored in leaf_hashes:  # the frontier append inlined, as in feed_many: it runs per entry
            digest, index = stored, size
            while index & 1:
                digest = sha256(b"\x01" + pop() + digest).digest()
                index >>= 1
            push(digest)
            size += 1
            if size == next_size:
                self._size = size
                next_size = self._check_heads()
        self._size = size
        self._expected += len(leaf_hashes)
        self.report.entries += len(leaf_hashes)
        self._macs_verified += macs_verified

    def feed_batch(self, records: list[EntryRecord]) -> None:
        """`feed_many` for a batch that is most likely intact: checked with a few list-wide
        comparisons (C loops) and fed as `feed_intact`; anything else goes entry by entry."""
        if not records:
            return
        sha256, first, count = hashlib.sha256, records[0].seq, len(records)
        stored = [r.leaf_hash for r in records]
        if (
            self._mac_keys is None
            and first == self._expected
            and [r.seq for r in records] == list(range(first, first + count))
            and [sha256(b"\x00" + r.leaf).digest() for r in records] == stored
            and all(r.tree_leaf is None for r in records)
        ):
            self.feed_intact(first, stored)
        else:
            self.feed_many(records)

    def feed(self, entry: EntryRecord, tree_leaf: bytes | None = None) -> None:
        self.feed_many((entry,), None if tree_leaf is None else {entry.seq: tree_leaf})

    def feed_many(
        self,
        entries: Iterable[EntryRecord | tuple[Any, ...]],
        tree_leaves: Mapping[int, bytes] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Check `entries` (tuples in EntryRecord's order; optionally against the tree's
        stored leaves by seq, when the entries do not carry them)."""
        # The hot loop: everything it touches is a local, the compact-range append is inlined,
        # and nothing but SHA-256 (and HMAC, given the keys) runs for an intact entry.
        sha256 = hashlib.sha256
        keys, mac_from = self._mac_keys, self._mac_from
        report = self.report
        frontier = self._frontier
        push, pop = frontier.append, frontier.pop
        size, expected, read = self._size, self._expected, report.entries
        next_size = self._next_size()
        limit = report.max_problems
        try:
            for seq, leaf, stored, mac, key_id, entry_id, tree_leaf in entries:
                read += 1
                if seq != expected:
                    expected, keep = self._out_of_sequence(seq, expected)
                    if report.problem_count >= limit:
                        self._stopped = True
                        break
                    if not keep:
                        continue
                else:
                    expected += 1
                if sha256(b"\x00" + leaf).digest() != stored:
                    report.fail(seq, "edited", "the content no longer hashes to its leaf")
                if tree_leaves is not None and tree_leaf is None:
                    tree_leaf = tree_leaves.get(seq)
                if tree_leaf is not None and tree_leaf != stored:
                    self._misplaced(seq, stored, tree_leaf)
                if keys is not None and (mac is not None or seq >= mac_from):
                    key = keys.get(key_id) if key_id is not None else None
                    if mac is None:
                        self._forged(seq, entry_id)
                    elif key is None:
                        if len(self._unknown_keys) < limit:
                            self._unknown_keys.append((seq, entry_id, key_id))
                    elif key(leaf) != mac:
                        self._forged(seq, entry_id)
                    else:
                        self._macs_verified += 1
                if report.problem_count >= limit:
                    self._stopped = True
                    break
                # Append the stored leaf (the one the signed tree committed to) to the frontier.
                digest, index = stored, size
                while index & 1:
                    digest = sha256(b"\x01" + pop() + digest).digest()
                    index >>= 1
                push(digest)
                size += 1
                if size == next_size:
                    self._size = size
                    next_size = self._check_heads()
                if progress is not None and not size & (PROGRESS_EVERY - 1):
                    progress(size)
        finally:
            self._size, self._expected, report.entries = size, expected, read
        if progress is not None:
            progress(size)

    def _settle_unknown_keys(self) -> None:
        if not self._unknown_keys:
            return
        if self._macs_verified:
            for seq, entry_id, _ in self._unknown_keys:
                self._forged(seq, entry_id)
            return
        ids = sorted({key_id or "" for _, _, key_id in self._unknown_keys})
        self.report.notes.append(f"MACs not checked: they were made with keys not held here (key ids {ids})")

    def finish(self) -> VerificationReport:
        self._settle_unknown_keys()
        report, size = self.report, self._size
        for anchor in [] if self._stopped else self._heads[self._next_head :]:
            report.heads_checked += 1
            if not self._signed(anchor):
                report.fail(None, "bad_signature", f"the head at size {anchor.size} is not ours")
            else:
                report.fail(
                    size,
                    "deleted",
                    f"a signed head covers {anchor.size} entries but the log ends at {size}",
                )
        self._next_head = len(self._heads)
        report.tree_size = size
        report.root_hash = fold_right(self._frontier).hex()
        report.unsigned_entries = size - self._signed_size
        return report


def verify_log(
    entries: Iterable[EntryRecord],
    signed_heads: Iterable[SignedTreeHead],
    public_key: Ed25519PublicKey,
    progress: Callable[[int], None] | None = None,
    *,
    tree_leaves: Mapping[int, bytes] | None = None,
    max_problems: int = 20,
    checkpoints: Iterable[Checkpoint] = (),
    mac_keys: Mapping[str, bytes] | None = None,
) -> VerificationReport:
    """Verify a whole log in one pass; `progress(n)` is called every 65,536 entries."""
    verifier = LogVerifier(signed_heads, public_key, max_problems, checkpoints=checkpoints, mac_keys=mac_keys)
    verifier.feed_many(entries, tree_leaves, progress)
    return verifier.finish()
