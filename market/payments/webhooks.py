"""The Stripe webhook inbox: each event is stored once (unique event id) and applied once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.errors import InvalidInput
from market.orders import service as orders
from market.orders.states import OrderStatus
from market.payments import repository
from market.payments.models import Payment, WebhookEvent
from market.payments.refunds import apply_refund
from market.payments.service import payment_failed, payment_succeeded


async def _payment_by_ref(session: AsyncSession, reference: str | None) -> Payment | None:
    if not reference:
        return None
    return await repository.payment_by_reference(session, reference, lock=True)


async def handle_stripe_event(session: AsyncSession, event: dict[str, Any]) -> str:
    """Store the event in the inbox (once) and apply it; returns what happened."""
    event_id = str(event.get("id") or "")
    if not event_id:
        raise InvalidInput("event without id", fields=[("body.id", "required")])
    try:
        async with session.begin_nested():
            inbox = WebhookEvent(
                provider_event_id=event_id,
                type=str(event.get("type")),
                payload=json.dumps(event, sort_keys=True),
            )
            session.add(inbox)
    except IntegrityError:
        return "duplicate"
    outcome = await _apply_event(session, event)
    inbox.handled_at = now()
    inbox.outcome = outcome
    return outcome


async def _apply_event(session: AsyncSession, event: dict[str, Any]) -> str:
    kind = event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        payment = await _payment_by_ref(session, obj.get("id"))
        if payment is None:
            return "unknown payment"
        if kind == "payment_intent.succeeded":
            if obj.get("amount_received", obj.get("amount")) != payment.amount_minor:
                return "amount mismatch: ignored"
            done = await payment_succeeded(session, payment, actor="stripe")
            return "paid" if done else "already applied"
        reason = ((obj.get("last_payment_error") or {}).get("message")) or "payment failed"
        return "failed" if await payment_failed(session, payment, reason) else "ignored"
    if kind == "charge.refunded":
        payment = await _payment_by_ref(session, obj.get("payment_intent"))
        if payment is None:
            return "unknown payment"
        order = await orders.lock(session, payment.order_id)
        # A refund proves the charge happened, even if its success event has not arrived yet.
        await payment_succeeded(session, payment, actor="stripe", order=order)
        delta = int(obj.get("amount_refunded", 0)) - payment.refunded_minor
        if delta <= 0:
            return "already applied"
        await apply_refund(session, order, payment, delta, actor="stripe", reason="stripe refund")
        return "refunded"
    if kind == "charge.dispute.created":
        payment = await _payment_by_ref(session, obj.get("payment_intent"))
        if payment is None:
            return "unknown payment"
        order = await orders.lock(session, payment.order_id)
        if order.status == OrderStatus.DISPUTED:
            return "already applied"
        reason = str(obj.get("reason") or "dispute")
        await orders.move(
            session,
            order,
            OrderStatus.DISPUTED,
            actor="stripe",
            action="dispute.opened",
            payload={"reason": reason, "amount_minor": obj.get("amount")},
            reason=reason,
        )
        return "disputed"
    return "ignored type"
