"""Compliance decisions: the one evaluation both the listing/trade gates and the dry run use.

The dry-run endpoint and the real gate call the same `evaluate`, so what a seller or
buyer is told in advance is exactly what the gate will decide on the same facts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from market.compliance.facts import ListingFacts, TradeFacts
from market.compliance.rules import RULESET_VERSION, Finding, rules_for

DecisionOutcome = Literal["allow", "deny", "needs_review"]


class Decision(BaseModel):
    """A compliance decision with every reason, the rule-set version and the facts used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["listing", "trade"]
    outcome: DecisionOutcome
    findings: tuple[Finding, ...]
    ruleset_version: str
    rules_evaluated: tuple[str, ...]
    facts: dict[str, Any]

    @property
    def denied(self) -> bool:
        return self.outcome == "deny"


def combine(findings: tuple[Finding, ...]) -> DecisionOutcome:
    """Any deny denies; otherwise any review needs review; notes alone allow."""
    outcomes = {f.outcome for f in findings}
    if "deny" in outcomes:
        return "deny"
    if "review" in outcomes:
        return "needs_review"
    return "allow"


def evaluate(facts: ListingFacts | TradeFacts) -> Decision:
    """Run every applicable rule over `facts` and combine all findings.

    Pure and deterministic: equal facts give equal decisions (findings in registry
    order). Every rule runs, so the decision lists all reasons, not just the first.
    """
    kind: Literal["listing", "trade"] = "trade" if isinstance(facts, TradeFacts) else "listing"
    rules = rules_for(kind)
    findings = tuple(f for f in (rule.evaluate(facts) for rule in rules) if f is not None)
    return Decision(
        kind=kind,
        outcome=combine(findings),
        findings=findings,
        ruleset_version=RULESET_VERSION,
        rules_evaluated=tuple(r.rule_id for r in rules),
        facts=facts.model_dump(mode="json"),
    )


def evaluate_listing(facts: ListingFacts) -> Decision:
    """May this product be listed? (不合规不挂牌)"""
    return evaluate(facts)


def evaluate_trade(facts: TradeFacts) -> Decision:
    """May this buyer buy this listed product for this purpose and scenario? (无场景不交易)"""
    return evaluate(facts)
