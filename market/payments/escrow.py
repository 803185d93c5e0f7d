"""Escrow: the seller's proceeds of a paid order are held until the trade is safe, then due,
then paid out (`states.PAYOUTS`). Every transition here checks the table, moves the money
between the ledger's escrow accounts and writes its audit entry, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.db.detached import added
from market.errors import Forbidden, NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.payments import ledger, payout_repository, repository
from market.payments.models import Payout
from market.payments.service import transition
from market.payments.states import HELD_BACK, PAYOUTS, PayoutStatus


async def move_payout(
    session: AsyncSession,
    payout: Payout,
    target: PayoutStatus,
    *,
    actor: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Change the payout's status through its table, audited as `payout.<target>`."""
    await transition(
        session,
        PAYOUTS,
        payout,
        target,
        actor=actor,
        subject_type="order",
        subject_id=payout.order_id,
        payload={"seller_id": str(payout.seller_id), **(payload or {})},
    )
    payout.updated_at = now()
    if target == PayoutStatus.DUE:
        payout.due_at = now()
    if target == PayoutStatus.PAID_OUT:
        payout.paid_out_at = now()


async def open_payout(session: AsyncSession, order: Order, *, window_days: int, actor: str) -> Payout:
    """The buyer's money arrived: the seller's proceeds are held for the acceptance window."""
    at = now()
    payout = Payout(
        id=uuid.uuid4(),
        order_id=order.id,
        seller_id=order.seller_id,
        currency=order.currency,
        status=PayoutStatus.HELD,
        held_until=at + timedelta(days=window_days),
        created_at=at,
        updated_at=at,
    )
    added(session, payout)
    await record(
        session,
        actor=actor,
        action="payout.held",
        subject_type="order",
        subject_id=order.id,
        payload={
            "seller_id": str(order.seller_id),
            "amount_minor": order.total_minor - order.commission_minor,
            "held_until": payout.held_until,
        },
    )
    return payout


async def payout_of(session: AsyncSession, order_id: uuid.UUID) -> Payout:
    """The order's payout, row-locked (every paid order has one)."""
    payout = await payout_repository.payout_of_order(session, order_id, lock=True)
    if payout is None:
        raise NotFound("this order has no payout: it was never paid")
    return payout


def account_of(payout: Payout) -> str:
    """Where the payout's proceeds sit: held back (window, dispute) or owed to the seller
    (due; after a payout, a refund is owed back through the same account)."""
    return ledger.SELLER_HELD if payout.status in HELD_BACK else ledger.SELLER_DUE


async def _shift(session: AsyncSession, payout: Payout, kind: str, source: str, target: str) -> int:
    """Move all of the order's proceeds in `source` to `target`; returns the amount moved."""
    amount = -(await ledger.balances(session, payout.order_id)).get(source, 0)
    await ledger.post(
        session, payout.order_id, payout.currency, ledger.shift_lines(kind, source, target, amount)
    )
    return amount


async def release(session: AsyncSession, payout: Payout, *, actor: str, why: str) -> int:
    """Held or frozen -> due: the held proceeds become owed to the seller. Returns the amount."""
    PAYOUTS.check(payout.status, PayoutStatus.DUE)
    held = await _shift(session, payout, "release", ledger.SELLER_HELD, ledger.SELLER_DUE)
    await move_payout(
        session, payout, PayoutStatus.DUE, actor=actor, payload={"amount_minor": held, "why": why}
    )
    return held


async def freeze(session: AsyncSession, payout: Payout, *, actor: str, dispute_id: uuid.UUID) -> bool:
    """A dispute opened: nothing moves until it is resolved (a due payout is held back again).
    A payout already paid out cannot be frozen (False): a refund is then recovered later."""
    if not PAYOUTS.can(payout.status, PayoutStatus.FROZEN):
        return False
    if payout.status == PayoutStatus.DUE:
        await _shift(session, payout, "freeze", ledger.SELLER_DUE, ledger.SELLER_HELD)
    await move_payout(
        session, payout, PayoutStatus.FROZEN, actor=actor, payload={"dispute_id": str(dispute_id)}
    )
    return True


async def cancel(session: AsyncSession, payout: Payout, *, actor: str, why: str) -> None:
    """Everything was refunded: nothing is left for the seller (a paid-out payout stays so;
    what it paid is recovered from the seller's next transfer)."""
    if PAYOUTS.can(payout.status, PayoutStatus.CANCELLED):
        await move_payout(session, payout, PayoutStatus.CANCELLED, actor=actor, payload={"why": why})


async def accept_delivery(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """The buyer accepts delivery: the order is completed and the seller's held payout is due
    now (the buyer gives up disputing it)."""
    visible = await orders.get_order(session, principal, order_id)
    if principal.participant_id != visible.buyer_id:
        raise Forbidden("only the buyer confirms receipt")
    await repository.payment_of_order(session, order_id, lock=True)  # payment before order, always
    await orders.lock(session, order_id)
    order = await orders.complete_order(session, principal, order_id)
    payout = await payout_repository.payout_of_order(session, order.id, lock=True)
    if payout is not None and payout.status == PayoutStatus.HELD:
        await release(session, payout, actor=principal.actor, why="the buyer accepted delivery")
    return order


async def page(
    session: AsyncSession, principal: Principal, *, status: str | None, cursor: str | None, limit: int
) -> list[Payout]:
    return await payout_repository.payout_page(session, principal, status=status, cursor=cursor, limit=limit)


async def amounts(session: AsyncSession, payouts: Sequence[Payout]) -> dict[uuid.UUID, tuple[int, int]]:
    """Each payout's (held, due) amounts in fen, from the ledger, in one query."""
    balances = await payout_repository.seller_balances(session, [p.order_id for p in payouts])
    return {
        order_id: (-accounts.get(ledger.SELLER_HELD, 0), -accounts.get(ledger.SELLER_DUE, 0))
        for order_id, accounts in balances.items()
    }
