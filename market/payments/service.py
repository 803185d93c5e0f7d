"""Payments: their state changes (each audited), failures, and an order's payment."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.common.states import StateMachine
from market.errors import NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.payments import repository
from market.payments.models import Payment
from market.payments.states import PAYMENTS, PaymentStatus

S = TypeVar("S", bound=StrEnum)


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
    return await repository.client_secrets(session, [o.id for o in waiting])


orders.register_client_secrets(_client_secrets)
