"""Refunds: asked by an operator (a provider call, keyed so a retry never refunds twice) or
reported by the provider's webhook; each books its ledger movement and, when the whole payment
went back, ends the order and its licence."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.delivery import service as delivery
from market.errors import Conflict, Forbidden, InvalidInput
from market.idempotency.service import IdempotencyKeyRequired
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import REFUNDABLE, OrderStatus
from market.payments import ledger
from market.payments.models import Payment, Refund
from market.payments.provider import PaymentProvider, provider_call
from market.payments.service import payment_for_order
from market.payments.states import PAYMENTS, PaymentStatus

REFUND_IDS = uuid.UUID("6f1d3c52-8a4e-4b7f-9c15-2e0a7d9b4f31")  # uuid5 namespace of refund ids


async def apply_refund(
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
    target = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    PAYMENTS.check(payment.status, target)
    payment.status = target
    payload = {
        "amount_minor": amount,
        "refunded_total_minor": payment.refunded_minor,
        "full": full,
        "reason": reason,
        "refund_id": str(refund.id) if refund else None,
    }
    if full:
        await delivery.revoke_for_order(session, order, reason="refunded", actor=actor)
        await orders.move(
            session, order, OrderStatus.REFUNDED, actor=actor, action="refund.issued", payload=payload
        )
    else:
        await record(
            session,
            actor=actor,
            action="refund.issued",
            subject_type="order",
            subject_id=order.id,
            payload=payload,
        )


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
    order = await orders.lock(session, order.id)
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
        await apply_refund(
            session, order, payment, unbooked, actor=principal.actor, reason=reason, refund=refund
        )
    return refund
