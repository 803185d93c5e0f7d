"""Abnormal-trade detection (Art. 61): gather the facts about an order or a buyer's refusals,
run the pure rules of `abnormal_rules`, and raise what they find through the alert store."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.models import RiskAlert
from market.alerts.service import raise_alert
from market.audit.queries import entry_ids_mentioning
from market.common.clock import now
from market.orders import repository
from market.orders.abnormal_rules import OrderFacts, PartyFacts, check_order, repeated_refusals
from market.orders.models import Order
from market.participants import service as participants
from market.settings import Thresholds

REFUSAL_ACTIONS = ("order.refused_by_compliance", "quote.refused_by_compliance")


async def _parties(session: AsyncSession, *participant_ids: uuid.UUID) -> list[PartyFacts]:
    known = await participants.identity_facts(session, participant_ids)
    return [
        PartyFacts(str(pid), known[pid].credit_code, frozenset(known[pid].email_domains))
        for pid in participant_ids
    ]


async def scan_order(session: AsyncSession, order: Order, thresholds: Thresholds) -> list[RiskAlert]:
    t = thresholds
    at = order.created_at
    earlier = await repository.recent_product_totals(session, order, t.price_history_window)
    recent = await repository.buyer_order_ids_since(session, order.buyer_id, at - t.burst_window, at)
    reverse = await repository.reverse_trade_ids(
        session, order.buyer_id, order.seller_id, at - t.round_trip_window
    )
    buyer, seller = await _parties(session, order.buyer_id, order.seller_id)
    facts = OrderFacts(
        order_id=str(order.id),
        product_id=str(order.product_id),
        buyer=buyer,
        seller=seller,
        total_minor=order.total_minor,
        created_at=at,
        earlier_product_totals=earlier,
        buyer_recent_order_ids=tuple(str(i) for i in recent),
        reverse_trade_ids=tuple(str(i) for i in reverse),
    )
    raised = []
    for finding in check_order(facts, t):
        subject = (
            ("participant", str(order.buyer_id))
            if finding.rule == "purchase_burst"
            else ("order", str(order.id))
        )
        if (alert := await raise_alert(session, finding, *subject)) is not None:
            raised.append(alert)
    return raised


async def scan_refusals(
    session: AsyncSession, buyer_id: uuid.UUID, thresholds: Thresholds
) -> RiskAlert | None:
    await session.flush()  # the refusal just recorded counts too
    ids = await entry_ids_mentioning(
        session, REFUSAL_ACTIONS, str(buyer_id), since=now() - thresholds.refusal_window
    )
    finding = repeated_refusals(str(buyer_id), ids, thresholds)
    return await raise_alert(session, finding, "participant", str(buyer_id)) if finding else None
