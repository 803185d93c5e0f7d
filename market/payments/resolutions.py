"""How a dispute ends: an operator's resolution (full refund, partial refund or rejection, with a
reason), or, for a card dispute, the card network's outcome reported by Stripe. A refund goes
through the refunds' two steps; the trade goes back to where it stood, unless the dispute
ended it; the seller's payout is released (or cancelled once all was refunded)."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, InvalidInput, NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import OrderStatus
from market.payments import escrow, refunds, repository
from market.payments.disputes import move_dispute
from market.payments.models import Dispute, Payment, Refund
from market.payments.states import DISPUTES, DisputeStatus, PayoutStatus

Outcome = Literal["refund_full", "refund_partial", "reject"]
TARGET = {
    "refund_full": DisputeStatus.REFUNDED,
    "refund_partial": DisputeStatus.PARTIALLY_REFUNDED,
    "reject": DisputeStatus.REJECTED,
}


async def _locked(session: AsyncSession, dispute_id: uuid.UUID) -> tuple[Dispute, Payment, Order]:
    """The dispute with its order's payment and the order, locked payment-first like every path."""
    found = await repository.dispute(session, dispute_id)
    if found is None:
        raise NotFound("dispute not found")
    payment = await repository.payment_of_order(session, found.order_id, lock=True)
    assert payment is not None, "a disputed order was paid"
    order = await orders.lock(session, found.order_id)
    dispute = await repository.dispute(session, dispute_id, lock=True)
    assert dispute is not None
    return dispute, payment, order


async def settle(
    session: AsyncSession,
    dispute: Dispute,
    order: Order,
    payment: Payment,
    *,
    outcome: Outcome,
    amount_minor: int | None,
    reason: str,
    actor: str,
    refund_source: str,
) -> Refund | None:
    """Apply a resolution to the locked dispute, order and payment. The refund, if any, is
    decided here; the caller either has the provider execute it or (a card network's chargeback,
    already taken) completes it at once."""
    DISPUTES.check(dispute.status, TARGET[outcome])
    left = await refunds.refundable(session, payment)
    amount = {"refund_full": left, "refund_partial": amount_minor or 0, "reject": 0}[outcome]
    if outcome == "refund_partial" and not 1 <= amount < left:
        raise InvalidInput(
            f"a partial refund is between 1 and {left - 1} fen ({left} would refund everything left)",
            fields=[("body.amount_minor", f"must be 1..{left - 1}")],
        )
    refund = None
    if amount > 0:
        refund = await refunds.request_refund(
            session, order, payment, amount, reason=f"dispute: {reason}", actor=actor, source=refund_source
        )
    dispute.resolution_reason, dispute.resolved_by, dispute.resolved_at = reason, actor, now()
    dispute.refund_id, dispute.refund_minor = (refund.id if refund else None), amount
    await move_dispute(
        session, dispute, TARGET[outcome], actor=actor, payload={"reason": reason, "refund_minor": amount}
    )
    if outcome == "refund_full" and amount > 0:
        return refund  # the refund, once confirmed, ends the order and cancels the payout
    payout = await escrow.payout_of(session, order.id)
    if payout.status == PayoutStatus.FROZEN:
        await escrow.release(session, payout, actor=actor, why=f"dispute {dispute.status}")
    payload = {"dispute_id": str(dispute.id), "outcome": outcome, "refund_minor": amount}
    if order.status == OrderStatus.DISPUTED:
        if (
            order.licence_id is not None
            and dispute.reason == "rights_problem"
            and dispute.source == "exchange"
        ):
            # The rights under the licence were revoked: the trade cannot resume.
            await orders.terminate(
                session, order, actor=actor, reason=f"dispute resolved: {reason}", payload=payload
            )
        else:
            await orders.move(
                session,
                order,
                OrderStatus(dispute.order_status_before),
                actor=actor,
                action="order.dispute_resolved",
                payload=payload,
                reason=f"dispute {dispute.status}: {reason}",
            )
    return refund


async def resolve(
    session: AsyncSession,
    principal: Principal,
    dispute_id: uuid.UUID,
    *,
    outcome: Outcome,
    amount_minor: int | None,
    reason: str,
) -> Dispute:
    """An operator resolves an open dispute; the refund, if any, is paid after the commit."""
    dispute, payment, order = await _locked(session, dispute_id)
    if dispute.source == "stripe":
        raise Conflict(
            "a card dispute is decided by the card network: Stripe reports its outcome "
            "(charge.dispute.closed), which resolves it here",
            code="card-dispute",
        )
    refund = await settle(
        session,
        dispute,
        order,
        payment,
        outcome=outcome,
        amount_minor=amount_minor,
        reason=reason,
        actor=principal.actor,
        refund_source="dispute",
    )
    if refund is not None:
        refunds.queue(session, [refund])
    return dispute


async def card_dispute_closed(
    session: AsyncSession, dispute: Dispute, *, won: bool, amount_minor: int, reason: str
) -> str:
    """Stripe reports a card dispute's outcome: won, the trade stands; lost, the card network
    took the money back (a refund the provider already made, booked at once)."""
    dispute, payment, order = await _locked(session, dispute.id)
    if dispute.status != DisputeStatus.OPEN:
        return "already applied"
    left = await refunds.refundable(session, payment)
    amount = min(amount_minor, left)
    outcome: Outcome = (
        "reject" if won or amount <= 0 else ("refund_full" if amount >= left else "refund_partial")
    )
    refund = await settle(
        session,
        dispute,
        order,
        payment,
        outcome=outcome,
        amount_minor=amount,
        reason=reason,
        actor="stripe",
        refund_source="provider",
    )
    if refund is not None:
        await refunds.complete_refund(session, refund, order, payment, actor="stripe")
    return "dispute won" if outcome == "reject" else "dispute lost"
