"""Queries on escrow: payouts, the transfers that pay them, and payout statements; tenant
scoping of payouts in `readable_payouts`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from market.auth.principal import Principal
from market.common.pagination import keyset_page
from market.common.periods import beijing_period
from market.orders.models import Order
from market.orders.states import OrderStatus
from market.payments.ledger import SELLER_DUE
from market.payments.models import LedgerEntry, Payout, PayoutTransfer
from market.payments.states import PayoutStatus


async def payout_of_order(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> Payout | None:
    stmt = select(Payout).where(Payout.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def payouts_past_window(session: AsyncSession, at: datetime, limit: int) -> list[Payout]:
    """Held payouts whose acceptance window ended, locked; rows another worker holds are
    skipped (SKIP LOCKED), so several workers share the scan without waiting on each other.
    A refused trade's proceeds never fall due (they wait for its refund, however late)."""
    stmt = (
        select(Payout)
        .join(Order, Order.id == Payout.order_id)
        .where(
            Payout.status == PayoutStatus.HELD, Payout.held_until <= at, Order.status != OrderStatus.REFUSED
        )
        .order_by(Payout.held_until)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Payout)
    )
    return list((await session.execute(stmt)).scalars())


async def due_payouts(session: AsyncSession, seller_id: uuid.UUID, currency: str) -> list[Payout]:
    """The seller's due payouts no transfer has claimed yet, row-locked."""
    stmt = (
        select(Payout)
        .where(
            Payout.seller_id == seller_id,
            Payout.currency == currency,
            Payout.status == PayoutStatus.DUE,
            Payout.transfer_id.is_(None),
        )
        .order_by(Payout.created_at, Payout.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def due_balances(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What is owed to the seller now for each order (negative: owed back by the seller)."""
    await session.flush()
    stmt = (
        select(LedgerEntry.order_id, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.order_id.in_(list(order_ids)), LedgerEntry.account == SELLER_DUE)
        .group_by(LedgerEntry.order_id)
    )
    return {order_id: -int(total) for order_id, total in await session.execute(stmt) if order_id}


async def refunds_to_recover(
    session: AsyncSession, seller_id: uuid.UUID, currency: str
) -> dict[uuid.UUID, int]:
    """Refunds made after their payout was paid out, per order: owed back by the seller."""
    await session.flush()
    stmt = (
        select(LedgerEntry.order_id, func.sum(LedgerEntry.amount_minor))
        .join(Payout, Payout.order_id == LedgerEntry.order_id)
        .where(
            Payout.seller_id == seller_id,
            Payout.currency == currency,
            Payout.status == PayoutStatus.PAID_OUT,
            LedgerEntry.account == SELLER_DUE,
        )
        .group_by(LedgerEntry.order_id)
        .having(func.sum(LedgerEntry.amount_minor) > 0)
    )
    return {order_id: -int(total) for order_id, total in await session.execute(stmt) if order_id}


def readable_payouts(principal: Principal) -> Select[Payout]:
    stmt = select(Payout)
    if not principal.can_see_all():
        stmt = stmt.where(Payout.seller_id == principal.participant_id)
    return stmt


async def payout_page(
    session: AsyncSession, principal: Principal, *, status: str | None, cursor: str | None, limit: int
) -> list[Payout]:
    stmt = readable_payouts(principal)
    if status:
        stmt = stmt.where(Payout.status == status)
    return list((await session.execute(keyset_page(stmt, Payout, cursor, limit))).scalars())


async def seller_balances(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Each order's account balances, for a page of payouts (one query)."""
    stmt = (
        select(LedgerEntry.order_id, LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.order_id.in_(list(order_ids)))
        .group_by(LedgerEntry.order_id, LedgerEntry.account)
    )
    out: dict[uuid.UUID, dict[str, int]] = {}
    for order_id, account, total in await session.execute(stmt):
        if order_id is not None:  # always, by the WHERE: top-ups have no order
            out.setdefault(order_id, {})[account] = int(total)
    return out


async def transfer(
    session: AsyncSession, transfer_id: uuid.UUID, *, lock: bool = False
) -> PayoutTransfer | None:
    return await session.get(PayoutTransfer, transfer_id, with_for_update=lock, populate_existing=lock)


async def transfer_recorded(session: AsyncSession, bank_reference: str) -> bool:
    stmt = select(PayoutTransfer.id).where(
        PayoutTransfer.bank_reference == bank_reference, PayoutTransfer.status != "failed"
    )
    return await session.scalar(stmt.limit(1)) is not None


async def payouts_of_transfer(session: AsyncSession, transfer_id: uuid.UUID) -> list[Payout]:
    stmt = select(Payout).where(Payout.transfer_id == transfer_id).with_for_update()
    return list((await session.execute(stmt)).scalars())


async def transfer_page(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> list[PayoutTransfer]:
    stmt = select(PayoutTransfer)
    if not principal.can_see_all():
        stmt = stmt.where(PayoutTransfer.seller_id == principal.participant_id)
    return list((await session.execute(keyset_page(stmt, PayoutTransfer, cursor, limit))).scalars())


async def ledger_flows(
    session: AsyncSession,
    *,
    seller_id: uuid.UUID | None,
    period: str,
    since: datetime | None,
    until: datetime | None,
) -> list[tuple[uuid.UUID, str, str, str, str, int]]:
    """Ledger movements summed per seller, Beijing-calendar period, currency, account and kind
    (`since` <= entry < `until`), by the database in one query."""
    bucket = beijing_period(session.get_bind().dialect.name, period, LedgerEntry.created_at).label("period")
    stmt = (
        select(
            Order.seller_id,
            bucket,
            LedgerEntry.currency,
            LedgerEntry.account,
            LedgerEntry.kind,
            func.sum(LedgerEntry.amount_minor),
        )
        .join(Order, Order.id == LedgerEntry.order_id)
        .group_by(Order.seller_id, bucket, LedgerEntry.currency, LedgerEntry.account, LedgerEntry.kind)
    )
    return [
        (s, str(p), c, a, k, int(t))
        for s, p, c, a, k, t in await session.execute(stmt.where(*_window(seller_id, since, until)))
    ]


async def opening_balances(
    session: AsyncSession, *, seller_id: uuid.UUID | None, before: datetime
) -> list[tuple[uuid.UUID, str, str, int]]:
    """Each seller's account balances per currency from everything before `before`."""
    stmt = (
        select(Order.seller_id, LedgerEntry.currency, LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
        .join(Order, Order.id == LedgerEntry.order_id)
        .group_by(Order.seller_id, LedgerEntry.currency, LedgerEntry.account)
    )
    return [
        (s, c, a, int(t))
        for s, c, a, t in await session.execute(stmt.where(*_window(seller_id, None, before)))
    ]


def _window(
    seller_id: uuid.UUID | None, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if seller_id is not None:
        conditions.append(Order.seller_id == seller_id)
    if since is not None:
        conditions.append(LedgerEntry.created_at >= since)
    if until is not None:
        conditions.append(LedgerEntry.created_at < until)
    return conditions
