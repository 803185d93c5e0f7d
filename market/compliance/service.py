"""Compliance gates: gather facts, evaluate the one rule set, store and audit the decision.

The real gates (listing submission, quote, order) and the dry run share `decide`, so the
same facts always give the same decision (不合规不挂牌，无场景不交易).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, cast

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.common.clock import now
from market.compliance import repository
from market.compliance.decision import Decision, evaluate
from market.compliance.facts import ListingFacts, TradeFacts
from market.compliance.gather import ProductSubject, listing_facts, trade_facts
from market.compliance.models import ComplianceDecisionRow
from market.compliance.repository import RulesRead
from market.db.detached import columns_of, detached
from market.db.pending import table_rows
from market.errors import (
    Conflict,
    InvalidInput,
    MarketError,
    NotFound,
    invalid_from_validation,
)


class ComplianceDenied(MarketError):
    """The trade rules refused: the decision that refused (and its audit entry) is kept, so the
    request's transaction commits before this 403 is sent; nothing else was made."""

    code, title, status = "compliance-denied", "Refused by the compliance rules", 403
    keeps_changes = True


def invalid_facts(exc: ValidationError, prefix: str = "body") -> InvalidInput:
    return invalid_from_validation(exc, prefix, "the facts for this check are invalid")


def findings_json(decision: Decision) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in decision.findings]


def denial(row: ComplianceDecisionRow) -> ComplianceDenied:
    reasons = [
        f"{f['rule_id']} ({f['article']}): {f['message_en']}" for f in row.findings if f["outcome"] == "deny"
    ]
    return ComplianceDenied(
        "refused by the compliance rules: " + "; ".join(reasons),
        extra={"decision_id": str(row.id), "outcome": row.outcome, "findings": row.findings},
    )


async def build_listing_facts(session: AsyncSession, product: ProductSubject) -> ListingFacts:
    try:
        return await listing_facts(session, product, now())
    except ValidationError as exc:
        raise invalid_facts(exc) from exc


async def build_trade_facts(
    session: AsyncSession,
    product: ProductSubject,
    *,
    buyer_id: uuid.UUID,
    purpose: str | None,
    scenario: str | None,
    cross_border: bool | None,
    found: RulesRead | None = None,
) -> TradeFacts:
    """The trade's facts as they are now; or as `found`, read with the caller's first statement
    (a quote's: one round trip fewer), then as of the instant it was read at."""
    at = found.at if found is not None and found.at is not None else now()
    try:
        return await trade_facts(
            session,
            product,
            buyer_id=buyer_id,
            purpose=purpose,
            scenario=scenario,
            cross_border=cross_border,
            at=at,
            found=found,
        )
    except ValidationError as exc:
        raise invalid_facts(exc) from exc


# Decisions are only written by the request that makes them (an operator's review later loads
# its row): recorded rows, written with the request's other writes, not mapped objects the session
# tracks (issue 21: two a purchase).
_DECISIONS = table_rows("compliance_decisions", cast(Table, ComplianceDecisionRow.__table__))


async def store_decision(
    session: AsyncSession, decision: Decision, *, subject_type: str, subject_id: str, actor: str
) -> ComplianceDecisionRow:
    """The decision, written with the request's other writes; the object returned is for reading
    (detached: a change to it is not written)."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),  # ours, so the row needs no flush of its own
        "kind": decision.kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "outcome": decision.outcome,
        "findings": findings_json(decision),
        "ruleset_version": decision.ruleset_version,
        "facts": decision.facts,
        "actor": actor,
        "created_at": now(),
        "review_status": "pending" if decision.outcome == "needs_review" else None,
        "review_reason": None,
        "reviewed_by": None,
        "reviewed_at": None,
    }
    _DECISIONS.record(session, values)
    row = detached(ComplianceDecisionRow, [values[name] for name in columns_of(ComplianceDecisionRow)[0]])
    await record(
        session,
        actor=actor,
        action="compliance.decided",
        subject_type=subject_type,
        subject_id=subject_id,
        payload={
            "decision_id": str(row.id),
            "kind": decision.kind,
            "outcome": decision.outcome,
            "ruleset_version": decision.ruleset_version,
            "rules": [f["rule_id"] for f in row.findings],
        },
    )
    return row


async def gate_listing(
    session: AsyncSession, *, product: ProductSubject, actor: str
) -> ComplianceDecisionRow:
    """Run the listing rules on a product about to be listed; the decision is stored and audited."""
    decision = evaluate(await build_listing_facts(session, product))
    return await store_decision(
        session, decision, subject_type="product", subject_id=str(product.product_id), actor=actor
    )


async def gate_trade(
    session: AsyncSession,
    *,
    product: ProductSubject,
    buyer_id: uuid.UUID,
    purpose: str,
    scenario: str,
    cross_border: bool,
    actor: str,
    subject_type: str,
    subject_id: str,
    found: RulesRead | None = None,
) -> ComplianceDecisionRow:
    """Run the trade rules at quote or order time, on the facts as they are now (`found`: as the
    request's first statement read them)."""
    facts = await build_trade_facts(
        session,
        product,
        buyer_id=buyer_id,
        purpose=purpose,
        scenario=scenario,
        cross_border=cross_border,
        found=found,
    )
    return await store_decision(
        session, evaluate(facts), subject_type=subject_type, subject_id=subject_id, actor=actor
    )


async def dry_run(
    session: AsyncSession,
    *,
    kind: Literal["listing", "trade"],
    product: ProductSubject,
    buyer_id: uuid.UUID | None,
    purpose: str | None,
    scenario: str | None,
    cross_border: bool,
) -> Decision:
    """The decision the real gate would take now; nothing is stored."""
    if kind == "listing":
        return evaluate(await build_listing_facts(session, product))
    assert buyer_id is not None
    return evaluate(
        await build_trade_facts(
            session,
            product,
            buyer_id=buyer_id,
            purpose=purpose,
            scenario=scenario,
            cross_border=cross_border,
        )
    )


async def resolve_review(
    session: AsyncSession,
    *,
    subject_type: str,
    subject_id: str,
    approve: bool,
    reason: str,
    actor: str,
) -> ComplianceDecisionRow:
    """Record an operator's decision on a parked listing or order (the newest pending one)."""
    row = await repository.pending_review(session, subject_type, subject_id)
    if row is None:
        raise Conflict("no compliance review is pending for this subject")
    row.review_status = "approved" if approve else "rejected"
    row.review_reason = reason
    row.reviewed_by = actor
    row.reviewed_at = now()
    await record(
        session,
        actor=actor,
        action="compliance.reviewed",
        subject_type=subject_type,
        subject_id=subject_id,
        payload={"decision_id": str(row.id), "approved": approve, "reason": reason},
    )
    return row


async def get_decision(session: AsyncSession, decision_id: uuid.UUID) -> ComplianceDecisionRow:
    row = await repository.decision(session, decision_id)
    if row is None:
        raise NotFound("compliance decision not found")
    return row
