"""Queries on payments, refunds and disputes; tenant scoping of disputes in `readable_disputes`.
(Payouts, transfers and statements: `payout_repository`.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.catalog.models import Product
from market.common.pagination import keyset_page
from market.db.detached import attached_row, columns_of
from market.db.direct import Direct
from market.orders.models import Order, Quote
from market.payments.models import Dispute, Payment, Refund
from market.payments.states import DisputeStatus, RefundStatus


async def payment_of_order(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


# The operator's confirmation that a transfer arrived: the payment and its order row-locked,
# with the product and the quote the money settles (not locked), in one direct read.
_PAYMENT_WITH_TRADE = Direct(
    select(*columns_of(Payment)[1], *columns_of(Order)[1], *columns_of(Product)[1], *columns_of(Quote)[1])
    .join(Order, Order.id == Payment.order_id)
    .join(Product, Product.id == Order.product_id)
    .join(Quote, Quote.id == Order.quote_id)
    .where(Payment.order_id == bindparam("order_id"))
    .with_for_update(of=[cast(Table, Payment.__table__), cast(Table, Order.__table__)])
)


async def payment_with_trade(
    session: AsyncSession, order_id: uuid.UUID
) -> tuple[Payment, Order, Product, Quote] | None:
    """The order's payment and the order, both row-locked, with its product and quote, all the
    session's as loaded objects (issue 21: one round trip, not three). The session holds
    unchanged objects weakly: keep the product and quote while their reads are to find them."""
    found = await _PAYMENT_WITH_TRADE.first(session, {"order_id": order_id})
    if found is None:
        return None
    payment, order, product, quote = attached_row(session, found, Payment, Order, Product, Quote)
    return payment, order, product, quote


async def payment_by_reference(
    session: AsyncSession, reference: str, *, lock: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.provider_ref == reference)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def payment(session: AsyncSession, payment_id: uuid.UUID, *, lock: bool = False) -> Payment | None:
    return await session.get(Payment, payment_id, with_for_update=lock, populate_existing=lock)


async def client_secrets(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = select(Payment.order_id, Payment.client_secret).where(
        Payment.order_id.in_(order_ids), Payment.client_secret.is_not(None)
    )
    return {oid: secret for oid, secret in await session.execute(stmt) if secret}


async def refund(session: AsyncSession, refund_id: uuid.UUID, *, lock: bool = False) -> Refund | None:
    return await session.get(Refund, refund_id, with_for_update=lock, populate_existing=lock)


async def committed_refunds(session: AsyncSession, payment_id: uuid.UUID) -> int:
    """What the payment's refunds have taken of it: confirmed, or decided and still owed."""
    await session.flush()
    stmt = select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.payment_id == payment_id,
        Refund.status.in_([RefundStatus.REQUESTED, RefundStatus.SUCCEEDED]),
    )
    return int(await session.scalar(stmt) or 0)


async def requested_refunds(session: AsyncSession, payment_id: uuid.UUID) -> list[Refund]:
    """The payment's refunds the provider has not confirmed yet, oldest first, row-locked."""
    stmt = (
        select(Refund)
        .where(Refund.payment_id == payment_id, Refund.status == RefundStatus.REQUESTED)
        .order_by(Refund.created_at, Refund.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def requested_refund_ids(session: AsyncSession, before: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Refund.id)
        .where(Refund.status == RefundStatus.REQUESTED, Refund.created_at < before)
        .order_by(Refund.created_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


def readable_disputes(principal: Principal) -> Select[Dispute]:
    stmt = select(Dispute)
    if not principal.can_see_all():
        me = principal.participant_id
        stmt = stmt.where(or_(Dispute.buyer_id == me, Dispute.seller_id == me))
    return stmt


async def dispute(session: AsyncSession, dispute_id: uuid.UUID, *, lock: bool = False) -> Dispute | None:
    return await session.get(Dispute, dispute_id, with_for_update=lock, populate_existing=lock)


async def dispute_by_reference(session: AsyncSession, reference: str) -> Dispute | None:
    stmt = select(Dispute).where(Dispute.provider_ref == reference).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_dispute_of(session: AsyncSession, order_id: uuid.UUID) -> Dispute | None:
    stmt = (
        select(Dispute)
        .where(Dispute.order_id == order_id, Dispute.status == DisputeStatus.OPEN)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalars().first()


async def dispute_page(
    session: AsyncSession, principal: Principal, *, status: str | None, cursor: str | None, limit: int
) -> list[Dispute]:
    stmt = readable_disputes(principal)
    if status:
        stmt = stmt.where(Dispute.status == status)
    return list((await session.execute(keyset_page(stmt, Dispute, cursor, limit))).scalars())


async def overdue_disputes(session: AsyncSession, at: datetime, limit: int) -> list[Dispute]:
    """Open disputes past their resolution deadline not yet reported, locked (SKIP LOCKED)."""
    stmt = (
        select(Dispute)
        .where(
            Dispute.status == DisputeStatus.OPEN,
            Dispute.resolve_by < at,
            Dispute.overdue_alerted_at.is_(None),
        )
        .order_by(Dispute.resolve_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def is_party_to_dispute(
    session: AsyncSession, participant_id: uuid.UUID, dispute_id: uuid.UUID
) -> bool:
    stmt = select(Dispute.id).where(
        Dispute.id == dispute_id, or_(Dispute.buyer_id == participant_id, Dispute.seller_id == participant_id)
    )
    return await session.scalar(stmt) is not None
