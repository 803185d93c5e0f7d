"""What a detector hands to the alert store: a rule's finding and its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    summary: str
    evidence: dict[str, object] = field(default_factory=dict)
