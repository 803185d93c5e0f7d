"""Disputes: opened by the buyer within the acceptance window (or by the card network through
Stripe, or by the exchange when a right fails after the payout), they freeze the seller's payout
until an operator resolves them (`resolutions`). Deadlines are counted in working days in the
exchange's calendar; every step is audited."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.audit.queries import register_party_check
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, Forbidden, NotFound
from market.notifications.outbox import OPERATORS, notify
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import OrderStatus
from market.payments import escrow, repository
from market.payments.models import Dispute
from market.payments.service import transition
from market.payments.states import DISPUTES, DisputeStatus, PayoutStatus
from market.registry.lifecycle import working_days_after
from market.settings import Settings

# What a buyer may dispute: a paid order whose licence it has not accepted yet.
DISPUTABLE = frozenset({OrderStatus.PAID, OrderStatus.DELIVERED})


class DisputeNotAllowed(Conflict):
    code = "dispute-not-allowed"


async def move_dispute(
    session: AsyncSession,
    dispute: Dispute,
    target: DisputeStatus,
    *,
    actor: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Change the dispute's status through its table, audited as `dispute.<target>`."""
    await transition(
        session,
        DISPUTES,
        dispute,
        target,
        actor=actor,
        subject_type="dispute",
        subject_id=dispute.id,
        payload={"order_id": str(dispute.order_id), **(payload or {})},
    )
    dispute.updated_at = now()
    # The buyer, the seller and the operators hear of every step (opened, answered, resolved).
    await notify(
        session,
        f"dispute.{target}",
        to=[dispute.buyer_id, dispute.seller_id, OPERATORS],
        subject=("dispute", dispute.id),
        data={"order_id": dispute.order_id, "status": target, **(payload or {})},
    )


async def open_dispute(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    *,
    source: str,
    reason: str,
    description: str,
    actor: str,
    provider_ref: str | None = None,
    proposed_refund_minor: int | None = None,
) -> Dispute:
    """Open a dispute on the (row-locked) order: the order is disputed, its payout frozen."""
    at = now()
    dispute = Dispute(
        id=uuid.uuid4(),
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        source=source,
        provider_ref=provider_ref,
        reason=reason,
        description=description,
        status=DisputeStatus.OPEN,
        order_status_before=order.status,
        opened_by=actor,
        respond_by=await working_days_after(session, at, settings.dispute_response_working_days),
        resolve_by=await working_days_after(session, at, settings.dispute_resolution_working_days),
        proposed_refund_minor=proposed_refund_minor,
        created_at=at,
        updated_at=at,
    )
    session.add(dispute)
    await session.flush()
    payload = {
        "dispute_id": str(dispute.id),
        "source": source,
        "reason": reason,
        "respond_by": dispute.respond_by,
        "resolve_by": dispute.resolve_by,
        "proposed_refund_minor": proposed_refund_minor,
    }
    await record(
        session,
        actor=actor,
        action="dispute.opened",
        subject_type="dispute",
        subject_id=dispute.id,
        payload={"order_id": str(order.id), **payload},
    )
    await orders.move(
        session,
        order,
        OrderStatus.DISPUTED,
        actor=actor,
        action="order.disputed",
        payload=payload,
        reason=f"disputed ({reason})",
    )
    await escrow.freeze(
        session, await escrow.payout_of(session, order.id), actor=actor, dispute_id=dispute.id
    )
    return dispute


async def file_dispute(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    order_id: uuid.UUID,
    *,
    reason: str,
    description: str,
) -> Dispute:
    """The buyer disputes its paid order, within the acceptance window and before accepting it."""
    visible = await orders.get_order(session, principal, order_id)
    if principal.participant_id != visible.buyer_id:
        raise Forbidden("only the buyer disputes an order", fields=[("body.order_id", "not your purchase")])
    await repository.payment_of_order(session, order_id, lock=True)  # payment before order, always
    order = await orders.lock(session, order_id)
    if order.status not in DISPUTABLE:
        why = {
            OrderStatus.COMPLETED: "you accepted its delivery",
            OrderStatus.DISPUTED: "it is disputed already",
        }.get(OrderStatus(order.status), f"it is {order.status}")
        raise DisputeNotAllowed(
            f"this order cannot be disputed: {why}", fields=[("body.order_id", f"order is {order.status}")]
        )
    payout = await escrow.payout_of(session, order.id)
    if payout.status != PayoutStatus.HELD or now() > payout.held_until:
        raise DisputeNotAllowed(
            f"the acceptance window ended on {payout.held_until.isoformat()}: the seller's payout is "
            f"{payout.status}",
            code="dispute-window-closed",
            fields=[("body.order_id", "acceptance window ended")],
        )
    return await open_dispute(
        session,
        settings,
        order,
        source="buyer",
        reason=reason,
        description=description,
        actor=principal.actor,
    )


async def visible_dispute(session: AsyncSession, principal: Principal, dispute_id: uuid.UUID) -> Dispute:
    dispute = await repository.dispute(session, dispute_id)
    if dispute is None or not (
        principal.can_see_all() or principal.participant_id in (dispute.buyer_id, dispute.seller_id)
    ):
        raise NotFound("dispute not found")
    return dispute


async def page(
    session: AsyncSession, principal: Principal, *, status: str | None, cursor: str | None, limit: int
) -> list[Dispute]:
    return await repository.dispute_page(session, principal, status=status, cursor=cursor, limit=limit)


async def respond(session: AsyncSession, principal: Principal, dispute_id: uuid.UUID, text: str) -> Dispute:
    """The seller's side of the story, once, while the dispute is open."""
    await visible_dispute(session, principal, dispute_id)
    dispute = await repository.dispute(session, dispute_id, lock=True)
    assert dispute is not None
    if principal.participant_id != dispute.seller_id:
        raise Forbidden("only the seller answers a dispute")
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict(f"the dispute is {dispute.status}", code=DISPUTES.code)
    if dispute.seller_response is not None:
        raise Conflict("the seller has answered this dispute already", code="dispute-already-answered")
    dispute.seller_response, dispute.responded_at = text, now()
    await record(
        session,
        actor=principal.actor,
        action="dispute.answered",
        subject_type="dispute",
        subject_id=dispute.id,
        payload={"order_id": str(dispute.order_id), "late": dispute.responded_at > dispute.respond_by},
    )
    return dispute


async def close_open(session: AsyncSession, order_id: uuid.UUID, *, actor: str, reason: str) -> None:
    """The order was refunded in full some other way: its open dispute is settled by it."""
    dispute = await repository.open_dispute_of(session, order_id)
    if dispute is not None:
        dispute.resolution_reason, dispute.resolved_by, dispute.resolved_at = reason, actor, now()
        await move_dispute(session, dispute, DisputeStatus.REFUNDED, actor=actor, payload={"reason": reason})


register_party_check("dispute", repository.is_party_to_dispute)
