"""Queries on payments, refunds and the webhook inbox."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.orders.models import Order
from market.payments.models import Payment


async def payment_of_order(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def payment_and_order(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> tuple[Payment, Order] | None:
    """The order's payment and the order, both row-locked by one statement when `lock`."""
    stmt = (
        select(Payment, Order).join(Order, Order.id == Payment.order_id).where(Payment.order_id == order_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).one_or_none()
    return (found[0], found[1]) if found else None


async def payment_by_reference(
    session: AsyncSession, reference: str, *, lock: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.provider_ref == reference)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def client_secrets(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = select(Payment.order_id, Payment.client_secret).where(
        Payment.order_id.in_(order_ids), Payment.client_secret.is_not(None)
    )
    return {oid: secret for oid, secret in await session.execute(stmt) if secret}
