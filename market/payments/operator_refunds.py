"""An operator's refund of a paid order (after a buyer's request, or a dispute settled outside
the exchange): decided in one transaction, asked of the provider after it (see `refunds`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.errors import Conflict, Forbidden
from market.idempotency.service import IdempotencyKeyRequired
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import REFUNDABLE
from market.payments import refunds, repository
from market.payments.service import payment_for_order
from market.payments.states import RefundStatus

REFUND_IDS = uuid.UUID("6f1d3c52-8a4e-4b7f-9c15-2e0a7d9b4f31")  # uuid5 namespace of refund ids


def _ensure_refundable(order: Order) -> None:
    if order.status not in REFUNDABLE:
        raise Conflict(f"an order that is {order.status} cannot be refunded", code="invalid-order-state")


def refund_id_for(actor: str, order_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """The refund's id, and so its provider-side idempotency key, from the request's own key.

    A retry after a lost answer (the provider refunded, our books did not hear of it) then asks
    the provider for the same refund again and gets the first one back, never a second.
    """
    return uuid.uuid5(REFUND_IDS, f"{actor}\n{order_id}\n{idempotency_key}")


async def decide_refund(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    *,
    amount_minor: int | None,
    reason: str,
    idempotency_key: str | None,
) -> uuid.UUID:
    """Decide the refund (default: all that is left) and return its id; a retry of the same
    request returns the refund it decided the first time."""
    order = await orders.get_order(session, principal, order_id)
    if not principal.has("operator"):
        raise Forbidden("refunds are issued by an operator (after a buyer's request or dispute)")
    if idempotency_key is None:  # asked after the checks above, so a stranger learns nothing
        raise IdempotencyKeyRequired("refunds")
    refund_id = refund_id_for(principal.actor, order.id, idempotency_key)
    decided = await repository.refund(session, refund_id)
    if decided is not None:
        if decided.status == RefundStatus.FAILED:
            raise Conflict(
                f"the payment provider refused this refund ({decided.failure_reason}); nothing went "
                "back. Ask again with a new Idempotency-Key once the cause is fixed",
                code="refund-failed",
            )
        return decided.id
    _ensure_refundable(order)
    # The payment's lock before the order's, the order confirmations and webhooks take them in,
    # so a refund racing a payment event waits instead of deadlocking; then look again.
    payment = await payment_for_order(session, order.id)
    order = await orders.lock(session, order.id)
    _ensure_refundable(order)
    left = await refunds.refundable(session, payment)
    if left == 0:
        raise Conflict(
            "everything paid for this order is refunded or being refunded", code="nothing-to-refund"
        )
    refund = await refunds.request_refund(
        session,
        order,
        payment,
        left if amount_minor is None else amount_minor,
        reason=reason,
        actor=principal.actor,
        source="operator",
        refund_id=refund_id,
    )
    return refund.id
