"""Offline verification of the audit log, streaming with O(log n) memory.

For each entry in sequence order: recompute its leaf from its content (an edit shows), check the
sequence is contiguous (a deletion or insertion shows), compare with the tree's stored leaf at
that position when the tree is available (a reorder shows), and rebuild the tree so that at every
signed head's size the root must match and the signature must verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from market.audit.canonical import entry_leaf_bytes
from market.audit.merkle import TreeBuilder
from market.audit.tree_head import SignedTreeHead, verify_tree_head


@dataclass(frozen=True)
class EntryRecord:
    seq: int
    created_at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: str
    leaf_hash: bytes


@dataclass
class VerificationReport:
    ok: bool = True
    entries: int = 0
    heads_checked: int = 0
    first_bad_seq: int | None = None
    kind: str | None = None  # edited | deleted | inserted | reordered | bad_head | unsigned_head
    detail: str = ""
    problems: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, kind: str, detail: str) -> None:
        if self.ok:
            self.ok, self.first_bad_seq, self.kind, self.detail = False, seq, kind, detail
        self.problems.append(f"{kind} at seq {seq}: {detail}")


def recompute_leaf(entry: EntryRecord) -> bytes:
    data = entry_leaf_bytes(
        created_at=entry.created_at,
        actor=entry.actor,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        payload_json=entry.payload,
    )
    return hashlib.sha256(b"\x00" + data).digest()


class LogVerifier:
    """Incremental verifier: `feed` entries in sequence order (with the tree's stored leaf at
    that position when known), then `finish`. Memory stays O(log n) plus the heads."""

    def __init__(
        self, heads: Iterable[SignedTreeHead], public_key: Ed25519PublicKey, max_problems: int = 20
    ) -> None:
        self.report = VerificationReport()
        self.max_problems = max_problems
        self.pending = sorted(heads, key=lambda h: h.tree_size)
        for head in self.pending:
            if not verify_tree_head(head, public_key):
                self.report.fail(
                    None,
                    "bad_head",
                    f"the signature of the head at size {head.tree_size} does not verify",
                )
        self.pending = [h for h in self.pending if h.tree_size > 0]
        self.builder = TreeBuilder()
        self.expected = 0

    @property
    def saturated(self) -> bool:
        return len(self.report.problems) >= self.max_problems

    def feed(self, entry: EntryRecord, tree_leaf: bytes | None = None) -> None:
        report = self.report
        report.entries += 1
        if entry.seq > self.expected:
            report.fail(self.expected, "deleted", f"sequence jumps from {self.expected - 1} to {entry.seq}")
        elif entry.seq < self.expected:
            report.fail(entry.seq, "inserted", f"sequence number {entry.seq} appears again")
            return
        leaf = recompute_leaf(entry)
        if leaf != entry.leaf_hash:
            report.fail(entry.seq, "edited", "the content no longer hashes to its leaf")
        elif tree_leaf is not None and tree_leaf != leaf:
            report.fail(entry.seq, "reordered", "the entry differs from the tree's leaf at this position")
        self.expected = entry.seq + 1
        self.builder.append(leaf)
        while self.pending and self.pending[0].tree_size == self.builder.size:
            head = self.pending.pop(0)
            report.heads_checked += 1
            if self.builder.root().hex() != head.root_hash:
                report.fail(
                    head.tree_size - 1,
                    "bad_head",
                    f"the root at size {head.tree_size} differs from the signed head: an entry "
                    f"before seq {head.tree_size} was changed, removed, added or moved",
                )

    def finish(self) -> VerificationReport:
        for head in self.pending:
            self.report.fail(
                head.tree_size - 1,
                "bad_head",
                f"a signed head covers {head.tree_size} entries but only {self.builder.size} exist",
            )
        self.pending = []
        return self.report


def verify_log(
    entries: Iterable[EntryRecord],
    heads: Iterable[SignedTreeHead],
    public_key: Ed25519PublicKey,
    *,
    tree_leaves: dict[int, bytes] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """The same check as a pure function over an iterable of entries."""
    verifier = LogVerifier(heads, public_key)
    for entry in entries:
        verifier.feed(entry, tree_leaves.get(entry.seq) if tree_leaves else None)
        if progress and verifier.report.entries % 4096 == 0:
            progress(verifier.report.entries)
        if verifier.saturated:
            break
    return verifier.finish()
