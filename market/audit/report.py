"""What a verification found: the primary finding, every problem (capped) and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from market.audit.merkle import EMPTY_ROOT

ENTRY_KINDS = frozenset({"edited", "deleted", "reordered", "inserted", "malformed", "forged"})


@dataclass
class VerificationReport:
    ok: bool = True
    entries: int = 0  # entries read
    tree_size: int = 0  # leaves in the rebuilt tree
    root_hash: str = EMPTY_ROOT.hex()
    heads_checked: int = 0
    unsigned_entries: int = 0  # entries after the last verified head: intact but not yet signed
    first_bad_seq: int | None = None  # the first entry found wrong (entry-level findings)
    bad_range: tuple[int, int] | None = None  # [a, b): a signed root no longer matches
    kind: str | None = None
    detail: str = ""
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    forged_ids: list[int] = field(default_factory=list)  # entries whose MAC does not verify
    notes: list[str] = field(default_factory=list)  # intact, but worth knowing (quarantines, ...)
    max_problems: int = field(default=20, repr=False)

    def fail(self, seq: int | None, kind: str, detail: str, bad_range: tuple[int, int] | None = None) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            where = f"seq {seq}" if bad_range is None else f"seqs [{bad_range[0]}, {bad_range[1]})"
            self.problems.append(f"{kind} at {where}: {detail}")
        if self.ok or _rank(seq, kind, bad_range) < _rank(self.first_bad_seq, self.kind, self.bad_range):
            self.ok, self.kind, self.detail = False, kind, detail
            self.first_bad_seq = seq if kind in ENTRY_KINDS else None
            self.bad_range = bad_range

    @property
    def finding(self) -> str:
        """The primary finding, in words."""
        if self.ok:
            return "log intact"
        if self.first_bad_seq is not None:
            return f"first bad sequence number {self.first_bad_seq} ({self.kind}): {self.detail}"
        if self.bad_range is not None:
            return (
                f"{self.kind}: an entry in [{self.bad_range[0]}, {self.bad_range[1]}) is wrong: {self.detail}"
            )
        return f"{self.kind}: {self.detail}"


def _rank(seq: int | None, kind: str | None, bad_range: tuple[int, int] | None) -> tuple[int, float]:
    if kind in ENTRY_KINDS:
        return (0, float("inf") if seq is None else seq)
    return (1, float("inf") if bad_range is None else bad_range[0])
