"""Payments: started for an order, succeeded (the order is paid, the ledger books the charge
and the licence is issued) or failed; offline transfers confirmed by an operator."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.delivery import service as delivery
from market.errors import Conflict, NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.payments import ledger, repository
from market.payments.models import Payment
from market.payments.provider import PaymentProvider, provider_call
from market.payments.states import PAYMENTS, PaymentStatus


async def start_payment(session: AsyncSession, provider: PaymentProvider, order: Order) -> Payment:
    async with provider_call(provider.name, "create the payment"):
        created = await provider.create_payment(
            order_id=str(order.id),
            quote_id=str(order.quote_id),
            amount_minor=order.total_minor,
            currency=order.currency,
        )
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        provider_ref=created.reference,
        amount_minor=order.total_minor,
        currency=order.currency,
        client_secret=created.client_secret,
    )
    session.add(payment)
    orders.note_payment(order, created.reference)
    await session.flush()
    await record(
        session,
        actor="system",
        action="payment.created",
        subject_type="order",
        subject_id=order.id,
        payload={
            "provider": provider.name,
            "reference": created.reference,
            "amount_minor": order.total_minor,
        },
    )
    if created.status == "succeeded":
        await payment_succeeded(session, payment, actor="system", order=order)
    return payment


async def payment_succeeded(
    session: AsyncSession, payment: Payment, *, actor: str, order: Order | None = None
) -> Order | None:
    """Record a successful charge once and return the paid order; later duplicates and late
    arrivals change nothing (None). `order`: the payment's order, when the caller already
    holds its row lock."""
    if not PAYMENTS.can(payment.status, PaymentStatus.SUCCEEDED):
        return None
    if order is None:
        order = await orders.lock(session, payment.order_id)
    assert order.id == payment.order_id
    payment.status = PaymentStatus.SUCCEEDED
    await ledger.post(
        session,
        order.id,
        order.currency,
        ledger.charge_lines(order.total_minor, order.commission_minor),
    )
    await orders.mark_paid(
        session,
        order,
        actor=actor,
        payload={
            "reference": payment.provider_ref,
            "amount_minor": payment.amount_minor,
            "commission_minor": order.commission_minor,
            "seller_proceeds_minor": order.total_minor - order.commission_minor,
        },
    )
    await delivery.deliver(session, order, actor=actor)
    return order


async def payment_failed(session: AsyncSession, payment: Payment, reason: str) -> bool:
    if payment.status != PaymentStatus.REQUIRES_PAYMENT:
        return False
    PAYMENTS.check(payment.status, PaymentStatus.FAILED)
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = reason
    await record(
        session,
        actor="system",
        action="payment.failed",
        subject_type="order",
        subject_id=payment.order_id,
        payload={"reason": reason},
    )
    return True


async def payment_for_order(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    payment = await repository.payment_of_order(session, order_id, lock=True)
    if payment is None:
        raise NotFound("no payment for this order")
    return payment


async def confirm_offline(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """An operator confirms a bank transfer arrived."""
    # The payment and its order, both row-locked by one statement.
    found = await repository.payment_and_order(session, order_id, lock=True)
    if found is None:
        raise NotFound("no payment for this order")
    payment, order = found
    if payment.provider != "offline":
        raise Conflict("only offline payments are confirmed by hand")
    if await payment_succeeded(session, payment, actor=principal.actor, order=order) is None:
        raise Conflict(f"the payment is already {payment.status}")
    return order


async def _client_secrets(session: AsyncSession, waiting: Sequence[Order]) -> dict[uuid.UUID, str]:
    return await repository.client_secrets(session, [o.id for o in waiting])


orders.register_client_secrets(_client_secrets)
