"""Refunds, offline confirmations and Stripe webhook events, each applied exactly once."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.idempotency.service import IdempotencyKeyRequired
from market.orders import service as orders
from market.orders.models import Order
from market.payments import ledger
from market.payments.models import Payment, Refund, WebhookEvent
from market.payments.provider import PaymentProvider, provider_call

REFUND_IDS = uuid.UUID("6f1d3c52-8a4e-4b7f-9c15-2e0a7d9b4f31")  # uuid5 namespace of refund ids


async def payment_for_order(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    payment = (
        await session.execute(select(Payment).where(Payment.order_id == order_id).with_for_update())
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound("no payment for this order")
    return payment


async def confirm_offline(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """An operator confirms a bank transfer arrived."""
    # The payment and its order, both row-locked by one statement.
    stmt = (
        select(Payment, Order)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.order_id == order_id)
        .with_for_update()
    )
    found = (await session.execute(stmt)).one_or_none()
    if found is None:
        raise NotFound("no payment for this order")
    payment, order = found
    if payment.provider != "offline":
        raise Conflict("only offline payments are confirmed by hand")
    if await orders.payment_succeeded(session, payment, actor=principal.actor, order=order) is None:
        raise Conflict(f"the payment is already {payment.status}")
    return order


async def _apply_refund(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    amount: int,
    *,
    actor: str,
    reason: str,
    refund: Refund | None = None,
) -> None:
    commission_booked = -await ledger.account_total(session, order.id, ledger.COMMISSION_REVENUE)
    lines = ledger.refund_lines(
        amount,
        total_minor=order.total_minor,
        commission=order.commission_minor,
        refunded_before=payment.refunded_minor,
        commission_reversed_before=order.commission_minor - commission_booked,
    )
    await ledger.post(session, order.id, order.currency, lines)
    payment.refunded_minor += amount
    full = payment.refunded_minor == payment.amount_minor
    payment.status = "refunded" if full else "partially_refunded"
    if full:
        order.status = "refunded"
        from market.delivery.service import revoke_for_order

        await revoke_for_order(session, order, reason="refunded", actor=actor)
    await record(
        session,
        actor=actor,
        action="refund.issued",
        subject_type="order",
        subject_id=order.id,
        payload={
            "amount_minor": amount,
            "refunded_total_minor": payment.refunded_minor,
            "full": full,
            "reason": reason,
            "refund_id": str(refund.id) if refund else None,
        },
    )


REFUNDABLE = ("paid", "delivered", "completed", "disputed")


def _ensure_refundable(order: Order) -> None:
    if order.status not in REFUNDABLE:
        raise Conflict(f"an order that is {order.status} cannot be refunded", code="invalid-order-state")


def refund_id_for(actor: str, order_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """The refund's id, and so its provider-side idempotency key, from the request's own key.

    A retry after a lost answer (the provider refunded, our transaction did not commit) then
    asks the provider for the same refund again and gets the first one back, never a second.
    """
    return uuid.uuid5(REFUND_IDS, f"{actor}\n{order_id}\n{idempotency_key}")


async def refund_order(
    session: AsyncSession,
    provider: PaymentProvider,
    principal: Principal,
    order_id: uuid.UUID,
    *,
    amount_minor: int | None,
    reason: str,
    idempotency_key: str | None,
) -> Refund:
    order = await orders.get_order(session, principal, order_id)
    if not principal.has("operator"):
        raise Forbidden("refunds are issued by an operator (after a buyer's request or dispute)")
    if idempotency_key is None:  # asked after the checks above, so a stranger learns nothing
        raise IdempotencyKeyRequired("refunds")
    _ensure_refundable(order)
    # The payment's lock before the order's, the order confirmations and webhooks take them in,
    # so a refund racing a payment event waits instead of deadlocking; then look again.
    payment = await payment_for_order(session, order.id)
    locked = await session.get(Order, order.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    order = locked
    _ensure_refundable(order)
    remaining = payment.amount_minor - payment.refunded_minor
    amount = remaining if amount_minor is None else amount_minor
    if amount <= 0 or amount > remaining:
        raise InvalidInput(
            f"refund must be between 1 and {remaining} fen",
            fields=[("body.amount_minor", f"must be 1..{remaining}")],
        )
    refund = Refund(
        id=refund_id_for(principal.actor, order.id, idempotency_key),
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason,
        requested_by=principal.actor,
    )
    session.add(refund)
    await session.flush()
    async with provider_call(provider.name, "refund"):
        done = await provider.refund(
            payment_reference=payment.provider_ref, refund_id=str(refund.id), amount_minor=amount
        )
    refund.provider_ref = done.reference
    refund.status = done.status
    unbooked = amount
    if done.replayed_refunded_total is not None:  # a webhook may have booked it meanwhile
        unbooked = min(amount, max(0, done.replayed_refunded_total - payment.refunded_minor))
    if done.status == "succeeded" and unbooked:
        await _apply_refund(
            session, order, payment, unbooked, actor=principal.actor, reason=reason, refund=refund
        )
    return refund


async def _payment_by_ref(session: AsyncSession, reference: str | None) -> Payment | None:
    if not reference:
        return None
    stmt = select(Payment).where(Payment.provider_ref == reference).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


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
            done = await orders.payment_succeeded(session, payment, actor="stripe")
            return "paid" if done else "already applied"
        reason = ((obj.get("last_payment_error") or {}).get("message")) or "payment failed"
        return "failed" if await orders.payment_failed(session, payment, reason) else "ignored"
    if kind == "charge.refunded":
        payment = await _payment_by_ref(session, obj.get("payment_intent"))
        if payment is None:
            return "unknown payment"
        order = await session.get(Order, payment.order_id, with_for_update=True)
        assert order is not None
        # A refund proves the charge happened, even if its success event has not arrived yet.
        await orders.payment_succeeded(session, payment, actor="stripe")
        delta = int(obj.get("amount_refunded", 0)) - payment.refunded_minor
        if delta <= 0:
            return "already applied"
        await _apply_refund(session, order, payment, delta, actor="stripe", reason="stripe refund")
        return "refunded"
    if kind == "charge.dispute.created":
        payment = await _payment_by_ref(session, obj.get("payment_intent"))
        if payment is None:
            return "unknown payment"
        order = await session.get(Order, payment.order_id, with_for_update=True)
        assert order is not None
        if order.status == "disputed":
            return "already applied"
        order.status = "disputed"
        order.status_reason = str(obj.get("reason") or "dispute")
        await record(
            session,
            actor="stripe",
            action="dispute.opened",
            subject_type="order",
            subject_id=order.id,
            payload={"reason": order.status_reason, "amount_minor": obj.get("amount")},
        )
        return "disputed"
    return "ignored type"
