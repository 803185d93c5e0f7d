"""Quotes: listed product + quantity + purpose + scenario -> an itemised, sealed, expiring quote,
priced at the plan and guided entry in force now, after the trade rules run."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.service import scan_refusals
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog.price_catalogue import guided_entry_at
from market.catalog.products import get_product
from market.catalog.schemas import QuoteCreate
from market.common.clock import now
from market.compliance.models import ComplianceDecisionRow
from market.compliance.service import gate_trade
from market.errors import Conflict, Forbidden, InvalidInput
from market.orders.models import Order, Quote
from market.orders.quotes import seal
from market.settings import Settings
from pricing import BuyerFacts, PricingError, parse_plan, quote


async def issue_quote(
    session: AsyncSession, settings: Settings, principal: Principal, data: QuoteCreate
) -> Quote | ComplianceDecisionRow:
    """The stored quote, or the trade rules' refusal (kept and audited; no quote exists)."""
    if principal.participant_id is None:
        raise Forbidden("quotes are for participants")
    product = await get_product(session, principal, data.product_id)
    if product.listing_status != "listed":
        raise Conflict(
            f"the product is {product.listing_status}, not listed",
            code="product-not-listed",
            fields=[("body.product_id", "not listed")],
        )
    if product.seller_id == principal.participant_id:
        raise InvalidInput("you cannot buy your own product", fields=[("body.product_id", "own product")])
    if data.scenario not in product.scenarios:
        raise InvalidInput(
            "no declared scenario, no trade (无场景不交易)",
            fields=[("body.scenario", f"not one of {product.scenarios}")],
        )
    if data.lottery_won:
        # Art. 70: a random-allocation result comes from the exchange's published draw (the
        # pricing core takes only a verified pricing.AllocationWin), never from the buyer.
        raise InvalidInput(
            "a random-allocation result comes from the exchange's published draw, not from the buyer",
            fields=[("body.lottery_won", "set by the exchange's draw, not by the buyer (Art. 70)")],
        )
    issued = now()
    # Stored (with the decision and the audit entries) only if the trade rules allow it, so a
    # refused quote never exists; the id is ours, so nothing is written before then.
    quote_row = Quote(
        id=uuid.uuid4(),
        product_id=product.id,
        buyer_id=principal.participant_id,
        quantity=str(data.quantity),
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
        body={},
        total_minor=0,
        currency=product.currency,
        digest="",
        plan_version=product.plan_version,
        issued_at=issued,
        expires_at=issued + timedelta(seconds=settings.quote_ttl_seconds),
        created_at=issued,
        updated_at=issued,
    )
    decision = await gate_trade(
        session,
        product=product,
        buyer_id=principal.participant_id,
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
        actor=principal.actor,
        subject_type="quote",
        subject_id=str(quote_row.id),
    )
    if decision.outcome == "deny":
        await record(
            session,
            actor=principal.actor,
            action="quote.refused_by_compliance",
            subject_type="product",
            subject_id=product.id,
            payload={"decision_id": str(decision.id), "buyer_id": str(principal.participant_id)},
        )
        await scan_refusals(session, principal.participant_id)
        return decision
    entry = (
        await guided_entry_at(session, product.price_catalogue_class, issued)
        if product.price_catalogue_class
        else None
    )
    earlier = await session.scalar(
        select(Order.id)
        .where(
            Order.buyer_id == principal.participant_id,
            Order.seller_id == product.seller_id,
            Order.status.in_(("paid", "delivered", "completed", "refunded", "disputed")),
        )
        .limit(1)
    )
    try:
        priced = quote(
            parse_plan(product.price_plan),
            entry,
            BuyerFacts(
                purpose=data.purpose,
                quantity=data.quantity,
                is_new_customer=earlier is None,
                at=issued,
            ),
            validity=timedelta(seconds=settings.quote_ttl_seconds),
        )
    except PricingError as exc:
        raise InvalidInput(str(exc), fields=[(f"body.{exc.field}", exc.reason)]) from exc
    quote_row.body = priced.model_dump(mode="json")
    quote_row.total_minor = priced.total_minor
    quote_row.currency = priced.currency
    quote_row.price_entry_key = priced.entry_key
    quote_row.price_entry_version = priced.entry_version
    quote_row.compliance_outcome = decision.outcome
    seal(quote_row)
    session.add(quote_row)
    await record(
        session,
        actor=principal.actor,
        action="quote.issued",
        subject_type="quote",
        subject_id=quote_row.id,
        payload={
            "product_id": str(product.id),
            "total_minor": priced.total_minor,
            "currency": priced.currency,
            "digest": quote_row.digest,
            "plan_version": priced.plan_version,
            "entry": priced.entry_key,
            "entry_version": priced.entry_version,
            "compliance": decision.outcome,
            "discounts": list(priced.discount_codes),
        },
    )
    return quote_row
