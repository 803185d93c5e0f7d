"""The trade gate at quote and at order time: the compliance rules run on today's facts; a
refusal is kept (decision and audit entry), counted towards the buyer's abnormal refusals, and
raised as `ComplianceDenied`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.catalog import products
from market.catalog.models import Product
from market.compliance.models import ComplianceDecisionRow
from market.compliance.repository import RulesRead
from market.compliance.service import denial, gate_trade
from market.jobs import enqueue
from market.orders import scan_jobs


async def pass_trade_gate(
    session: AsyncSession,
    *,
    actor: str,
    buyer_id: uuid.UUID,
    product: Product,
    purpose: str,
    scenario: str,
    cross_border: bool,
    decided_for: tuple[str, str],
    refused: tuple[str, str, str],
    found: RulesRead | None = None,
) -> ComplianceDecisionRow:
    """The stored decision (allow or needs_review) on a trade of `product` by `buyer_id`;
    `decided_for` names the quote or order it is taken for, `refused` the audit action and
    subject of a refusal; `found`: the facts, when the request's first statement read them."""
    decision = await gate_trade(
        session,
        product=products.compliance_subject(
            product, lock_resources=products.claim_lock(product) if decided_for[0] == "order" else None
        ),
        buyer_id=buyer_id,
        purpose=purpose,
        scenario=scenario,
        cross_border=cross_border,
        actor=actor,
        subject_type=decided_for[0],
        subject_id=decided_for[1],
        found=found,
    )
    if decision.outcome == "deny":
        action, subject_type, subject_id = refused
        await record(
            session,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            payload={
                "decision_id": str(decision.id),
                "product_id": str(product.id),
                "buyer_id": str(buyer_id),
            },
        )
        await session.flush()  # the scan runs after commit and counts this refusal
        await enqueue(session, scan_jobs.scan_refusals, buyer_id=str(buyer_id))
        raise denial(decision)
    return decision
