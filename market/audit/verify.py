"""Offline verification of the audit log: streaming, O(log n) memory, pure (no database).

For each entry, in the order given (the service reads `ORDER BY seq`):
- its stored leaf bytes are hashed and compared with its stored `leaf_hash` → "edited"
  (an entry *is* its leaf: reads are served from it, so nothing is re-serialised to check it);
- its `seq` must be the next one: a jump → "deleted" (upgraded to "reordered" if the missing
  seq turns up later in the stream), a seq already passed → "inserted" (the entry is left out
  of the tree so the rest of the log still checks);
- when the tree's own stored leaves are supplied (level-0 nodes), the entry's leaf must be the
  one the tree holds at that seq → "reordered" once the row is seen to belong at another seq
  (a swap shows from both ends), else "edited";
- the stored leaf hashes feed a compact range (the tree's right frontier), so at every size
  where a signed head exists, its signature and root are checked → "bad_signature" /
  "root_mismatch" (this is what catches a row rewritten together with its leaf hash, bounded
  between the last matching head and this one). A head the log never reaches → "deleted".

The report names every problem (up to `max_problems`) and one primary finding: the entry-level
problem with the smallest seq if any, otherwise the first head-level one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from market.audit.canonical import LeafFields, parse_leaf
from market.audit.merkle import EMPTY_ROOT, fold_right, leaf_hash, verify_inclusion
from market.audit.tree_head import SignedTreeHead, verify_tree_head

ENTRY_KINDS = frozenset({"edited", "deleted", "reordered", "inserted", "malformed"})
PROGRESS_EVERY = 1 << 16
MAX_PENDING = 1024  # unmatched tree-leaf mismatches remembered to recognise a swap


# Fields of an entry that a reader may be shown beside its leaf; each must agree with the leaf.
SHOWN_FIELDS = ("created_at", "actor", "action", "subject_type", "subject_id", "payload")


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One stored audit entry, as the verifier needs it: its place, its leaf, its leaf hash."""

    seq: int
    leaf: bytes  # the canonical leaf bytes, exactly as stored and hashed
    leaf_hash: bytes

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> EntryRecord:
        """From an export line or an API entry: `seq`, `leaf` (text), `leaf_hash` (hex).

        Fields shown beside the leaf (actor, payload, ...) must say what the leaf says, else
        ValueError: a reader must never be shown one thing while another was proven."""
        row = json.loads(data) if isinstance(data, str | bytes) else data
        leaf = row["leaf"]
        if not isinstance(leaf, str):
            raise ValueError("leaf must be the entry's canonical JSON text")
        shown = {name: row[name] for name in SHOWN_FIELDS if name in row}
        if shown and (name := _first_disagreeing(parse_leaf(leaf), shown)) is not None:
            raise ValueError(f"the entry's {name} disagrees with its leaf")
        digest = row.get("leaf_hash")
        return cls(
            seq=int(row["seq"]),
            leaf=leaf.encode("utf-8"),
            leaf_hash=bytes.fromhex(digest) if isinstance(digest, str) else bytes(digest or b""),
        )

    def recomputed_leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf)


def export_line(seq: int | None, entry_id: int, leaf: str, leaf_hash: bytes) -> str:
    """One line of the JSONL export (what `EntryRecord.from_json` reads back): the entry's
    place, its leaf hash and its exact leaf text, all an offline verifier needs."""
    return json.dumps(
        {"seq": seq, "id": entry_id, "leaf_hash": leaf_hash.hex(), "leaf": leaf}, ensure_ascii=False
    )


def _agrees(shown: object, signed: object) -> bool:
    if isinstance(signed, datetime):
        if isinstance(shown, str):
            try:
                shown = datetime.fromisoformat(shown)
            except ValueError:
                return False
        return isinstance(shown, datetime) and shown.tzinfo is not None and shown == signed
    return shown == signed


def _first_disagreeing(signed: LeafFields, shown: Mapping[str, object]) -> str | None:
    """The first of the `shown` fields that does not say what the leaf says, if any."""
    return next((name for name, value in shown.items() if not _agrees(value, getattr(signed, name))), None)


def index_disagreement(leaf: bytes | str, columns: Mapping[str, object]) -> str | None:
    """Why the indexed columns (created_at, actor, action, subject) no longer say what the leaf
    says, if they don't: a changed column would silently steer filters and a trade's history."""
    try:
        signed = parse_leaf(leaf)
    except ValueError as exc:
        return f"the stored leaf cannot be read ({exc})"
    name = _first_disagreeing(signed, columns)
    return None if name is None else f"the {name} column no longer says what the entry says"


@dataclass
class VerificationReport:
    ok: bool = True
    entries: int = 0  # entries read
    tree_size: int = 0  # leaves in the rebuilt tree
    root_hash: str = EMPTY_ROOT.hex()
    heads_checked: int = 0
    unsigned_entries: int = 0  # entries after the last verified head: intact but not yet signed
    first_bad_seq: int | None = None
    kind: str | None = None
    detail: str = ""
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    max_problems: int = field(default=20, repr=False)

    def fail(self, seq: int | None, kind: str, detail: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(f"{kind} at seq {seq}: {detail}")
        if self.ok or _rank(seq, kind) < _rank(self.first_bad_seq, self.kind):
            self.ok, self.first_bad_seq, self.kind, self.detail = False, seq, kind, detail


def _rank(seq: int | None, kind: str | None) -> tuple[int, float]:
    return (0 if kind in ENTRY_KINDS else 1, float("inf") if seq is None else seq)


class LogVerifier:
    """Incremental verifier: `feed_many` / `feed` entries in log order, then `finish`.

    State is the tree's right frontier (≤ 64 hashes), a few counters and the signed heads.
    """

    def __init__(
        self,
        heads: Iterable[SignedTreeHead],
        public_key: Ed25519PublicKey,
        max_problems: int = 20,
    ) -> None:
        self.report = VerificationReport(max_problems=max_problems)
        self._public_key = public_key
        self._heads = sorted(heads, key=lambda h: h.tree_size)
        self._next_head = 0
        self._frontier: list[bytes] = []
        self._size = 0
        self._expected = 0
        self._gap: tuple[int, int] | None = None  # first seq jump seen, [start, end)
        self._signed_size = 0  # size of the last head whose root matched
        self._stopped = False  # gave up at max_problems: later heads are unchecked, not unmet
        # Tree-leaf mismatches awaiting a partner: row leaf -> its seq, tree leaf -> its seq.
        self._unplaced: dict[bytes, int] = {}
        self._displaced: dict[bytes, int] = {}
        self._check_heads()  # heads of size 0

    @property
    def expected_seq(self) -> int:
        """The sequence number the next entry should carry."""
        return self._expected

    @property
    def saturated(self) -> bool:
        return self.report.problem_count >= self.report.max_problems

    def _next_size(self) -> int:
        heads = self._heads
        return heads[self._next_head].tree_size if self._next_head < len(heads) else -1

    def _check_heads(self) -> int:
        """Check every head of exactly the current size; return the next size to stop at."""
        heads, size, report = self._heads, self._size, self.report
        bound = self._signed_size  # last size below this one whose root matched
        # Heads are sorted and the size grows by one, so every head is met exactly here.
        while self._next_head < len(heads) and heads[self._next_head].tree_size == size:
            head = heads[self._next_head]
            self._next_head += 1
            report.heads_checked += 1
            if not verify_tree_head(head, self._public_key):
                report.fail(None, "bad_signature", f"the head at size {head.tree_size} is not ours")
            elif fold_right(self._frontier).hex() != head.root_hash:
                report.fail(
                    bound,
                    "root_mismatch",
                    f"the root at size {size} differs from the signed head: an entry in "
                    f"[{bound}, {size}) was changed, removed, added or moved",
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

    def feed(self, entry: EntryRecord, tree_leaf: bytes | None = None) -> None:
        self.feed_many((entry,), None if tree_leaf is None else {entry.seq: tree_leaf})

    def feed_many(
        self,
        entries: Iterable[EntryRecord],
        tree_leaves: Mapping[int, bytes] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Check `entries` (optionally against the tree's stored leaves by seq)."""
        # The hot loop: everything it touches is a local, the compact-range append is inlined,
        # and nothing but SHA-256 runs for an intact entry (RFC 9162 leaf and node hashing).
        sha256 = hashlib.sha256
        report = self.report
        frontier = self._frontier
        push, pop = frontier.append, frontier.pop
        size, expected, read = self._size, self._expected, report.entries
        next_size = self._next_size()
        limit = report.max_problems
        try:
            for e in entries:
                read += 1
                seq = e.seq
                if seq != expected:
                    expected, keep = self._out_of_sequence(seq, expected)
                    if report.problem_count >= limit:
                        self._stopped = True
                        break
                    if not keep:
                        continue
                else:
                    expected += 1
                stored = e.leaf_hash
                if sha256(b"\x00" + e.leaf).digest() != stored:
                    report.fail(seq, "edited", "the content no longer hashes to its leaf")
                    if report.problem_count >= limit:
                        self._stopped = True
                        break
                if tree_leaves is not None:
                    in_tree = tree_leaves.get(seq)
                    if in_tree is not None and in_tree != stored:
                        self._misplaced(seq, stored, in_tree)
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

    def finish(self) -> VerificationReport:
        report, size = self.report, self._size
        for head in [] if self._stopped else self._heads[self._next_head :]:
            report.heads_checked += 1
            if not verify_tree_head(head, self._public_key):
                report.fail(None, "bad_signature", f"the head at size {head.tree_size} is not ours")
            else:
                report.fail(
                    size,
                    "deleted",
                    f"a signed head covers {head.tree_size} entries but the log ends at {size}",
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
) -> VerificationReport:
    """Verify a whole log in one pass; `progress(n)` is called every 65,536 entries."""
    verifier = LogVerifier(signed_heads, public_key, max_problems)
    verifier.feed_many(entries, tree_leaves, progress)
    return verifier.finish()


@dataclass(frozen=True)
class OfflineCheck:
    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def _load(data: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    loaded = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(loaded, Mapping):
        raise ValueError("expected a JSON object")
    return loaded


def verify_inclusion_proof_offline(
    sth_json: str | bytes | Mapping[str, Any],
    entry_json: str | bytes | Mapping[str, Any] | None,
    proof_json: str | bytes | Mapping[str, Any],
    public_key: Ed25519PublicKey,
) -> OfflineCheck:
    """For an outside auditor holding only the exchange's public key: the head is signed by
    it, the entry's content hashes to its leaf, and the proof puts that leaf at `seq` in the
    signed tree. The proof is `{"leaf_index", "tree_size", "audit_path"|"inclusion_path"}` as
    served by the API (its `entry` is used when `entry_json` is None)."""
    try:
        sth = SignedTreeHead.model_validate(_load(sth_json))
        proof = _load(proof_json)
        entry = EntryRecord.from_json(entry_json if entry_json is not None else proof["entry"])
        path = [bytes.fromhex(h) for h in proof.get("audit_path", proof.get("inclusion_path", []))]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (ValueError, KeyError, TypeError) as exc:
        return OfflineCheck(False, f"malformed input: {exc}")
    if not verify_tree_head(sth, public_key):
        return OfflineCheck(False, "the tree head is not signed by this key")
    leaf = entry.recomputed_leaf_hash()
    if entry.leaf_hash and entry.leaf_hash != leaf:
        return OfflineCheck(False, "the entry's content does not hash to its leaf hash")
    if "leaf_hash" in proof and proof["leaf_hash"] != leaf.hex():
        return OfflineCheck(False, "the proof is for another leaf")
    # Only the signed head authenticates the size; a proof's own claim is checked against it.
    if size != sth.tree_size or index != entry.seq:
        return OfflineCheck(False, "the proof is for another tree size or position")
    if not verify_inclusion(leaf, index, sth.tree_size, path, sth.root):
        return OfflineCheck(False, "the inclusion proof does not lead to the signed root")
    return OfflineCheck(True, f"entry {index} is in the signed tree of size {sth.tree_size}")
