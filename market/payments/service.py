"""Payments: their state changes (each audited), failures, and an order's payment."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.common.states import StateMachine
from market.db.session import after_commit
from market.errors import MarketError, NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.payments import repository
from market.payments.models import Payment
from market.payments.provider import PAYMENT_PROVIDER, provider_call
from market.payments.states import PAYMENTS, PaymentStatus
from market.runtime import Runtime

S = TypeVar("S", bound=StrEnum)
log = logging.getLogger("market.payments.service")


class HasStatus(Protocol):
    status: str


async def transition(
    session: AsyncSession,
    machine: StateMachine[S],
    entity: HasStatus,
    target: S,
    *,
    actor: str,
    subject_type: str,
    subject_id: uuid.UUID,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Change `entity`'s status if `machine`'s table allows it, and audit the change as
    `<entity>.<target>` (e.g. `payout.due`) in the same transaction."""
    machine.check(entity.status, target)
    before = entity.status
    entity.status = target
    await record(
        session,
        actor=actor,
        action=f"{machine.entity}.{target}",
        subject_type=subject_type,
        subject_id=subject_id,
        payload={"from": before, **(payload or {})},
    )


async def move_payment(
    session: AsyncSession,
    payment: Payment,
    target: PaymentStatus,
    *,
    actor: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Change the payment's status through its table, audited as `payment.<target>`."""
    await transition(
        session,
        PAYMENTS,
        payment,
        target,
        actor=actor,
        subject_type="order",
        subject_id=payment.order_id,
        payload={"provider": payment.provider, **(payload or {})},
    )


async def payment_failed(session: AsyncSession, payment: Payment, reason: str) -> bool:
    if payment.status != PaymentStatus.REQUIRES_PAYMENT:
        return False
    payment.failure_reason = reason
    await move_payment(session, payment, PaymentStatus.FAILED, actor="system", payload={"reason": reason})
    return True


async def payment_for_order(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    payment = await repository.payment_of_order(session, order_id, lock=True)
    if payment is None:
        raise NotFound("no payment for this order")
    return payment


async def _client_secrets(session: AsyncSession, waiting: Sequence[Order]) -> dict[uuid.UUID, str]:
    """The client secrets of the orders' payments: those this session holds (an order placed in
    this request) without a query, the others read."""
    ids = {o.id for o in waiting}
    held: dict[uuid.UUID, str | None] = {}
    for obj in (*session.new, *session.identity_map.values()):
        # Read from what the object holds (an expired one would load, and is left to the query).
        values = obj.__dict__
        if isinstance(obj, Payment) and values.get("order_id") in ids and "client_secret" in values:
            held[values["order_id"]] = values["client_secret"]
    found = {oid: secret for oid, secret in held.items() if secret}
    if unknown := [oid for oid in ids if oid not in held]:
        found |= await repository.client_secrets(session, unknown)
    return found


orders.register_client_secrets(_client_secrets)


async def _let_go_of_payment(session: AsyncSession, order: Order) -> None:
    """The payment waiting for a cancelled order is cancelled at its provider once the
    cancellation commits, with no transaction open: left open, its client secret (shown with the
    order) could still pay it, and the money would then be refunded at the exchange's cost.
    Best effort: a payment that arrives all the same is refunded, as it always was
    (market.payments.arrival), so a provider that cannot be reached is only logged."""
    payment = await repository.payment_of_order(session, order.id)
    if payment is None or payment.status != PaymentStatus.REQUIRES_PAYMENT:
        return
    provider_name, reference = payment.provider, payment.provider_ref

    async def cancel(runtime: Runtime) -> None:
        provider = runtime.port(PAYMENT_PROVIDER)
        if provider.name != provider_name or not provider.asks_a_third_party:
            return
        try:
            async with provider_call(provider.name, "cancel the payment"):
                await provider.cancel_payment(payment_reference=reference)
        except MarketError as refused:
            log.warning("the payment %s of a cancelled order was left open: %s", reference, refused.message)

    after_commit(session, cancel)


orders.register_ended_unpaid(_let_go_of_payment)
