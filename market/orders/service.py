"""Order use cases: order from a quote, cancel, review, accept delivery. Every status change
goes through `move`, which checks the table in `states.py` and writes the audit entry; payments
and delivery ask this service for the transitions they cause (paid, delivered, refunded).

Oversell is impossible by construction: the unit is counted by one conditional UPDATE of the
product's row (still listed, stock left), so concurrent buyers queue on that row from their
writes to their commits and only as many succeed as there is stock
(`catalog.products.reserve_unit`). Exclusivity belongs to the data: the rows of the product's
resources are locked while the order's claims on them are checked and made, so an exclusive
order through any product or seller over the same resource queues with every other order.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.allocation import service as allocation
from market.audit.log import record
from market.audit.queries import register_party_check
from market.auth.principal import Principal
from market.catalog import products
from market.catalog.models import Product
from market.common.clock import now
from market.common.states import InvalidTransition
from market.compliance.exports import register_resources_sold_abroad
from market.compliance.service import resolve_review
from market.db.detached import added, kept
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.jobs import enqueue
from market.notifications.outbox import notify
from market.orders import repository, scan_jobs, windows
from market.orders.claims import SoldOut, claim_resources
from market.orders.gate import pass_trade_gate
from market.orders.models import Order, OrderClaim, Quote
from market.orders.quotes import Payable
from market.orders.schemas import TradeTotals
from market.orders.states import (
    ENDS_CLAIMS,
    ORDERS,
    QUOTES,
    RELEASES_WINDOW_UNITS,
    OrderStatus,
    QuoteStatus,
)
from market.participants import verification
from market.settings import Settings
from pricing.money import Money

ORDER_IDS = uuid.UUID("0b5e7c1a-3f2d-4e8b-a6c4-9d1f2e7a5b38")  # uuid5 namespace of order ids


async def move(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    action: str,
    payload: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Change the order's status if the table allows it, and audit the change as `action`."""
    ORDERS.check(order.status, target)
    order.status = target
    order.updated_at = now()
    if reason is not None:
        order.status_reason = reason
    if target in ENDS_CLAIMS:
        if unwritten := _unwritten_claims(session, order):
            for claim in unwritten:
                claim.released_at = now()
        else:
            await repository.release_claims(session, order.id, now())
    if target in RELEASES_WINDOW_UNITS:
        await windows.release_units(session, order)
    await record(
        session, actor=actor, action=action, subject_type="order", subject_id=order.id, payload=payload
    )
    # Both parties hear of every step of their trade (paid, licence issued, disputed, ...).
    await notify(
        session,
        action,
        to=[order.buyer_id, order.seller_id],
        subject=("order", order.id),
        data={"status": target, "reason": reason, **(payload or {})},
    )


async def mark_paid(session: AsyncSession, order: Order, *, actor: str, payload: Mapping[str, Any]) -> None:
    order.paid_at = now()
    await move(session, order, OrderStatus.PAID, actor=actor, action="order.paid", payload=payload)


async def mark_delivered(
    session: AsyncSession,
    order: Order,
    licence_id: uuid.UUID,
    *,
    term_ends: datetime,
    actor: str,
    payload: Mapping[str, Any],
) -> None:
    """The licence is issued: the order's claims on its resources last as long as its term."""
    order.licence_id = licence_id
    await claims_end(session, order, term_ends)
    await move(session, order, OrderStatus.DELIVERED, actor=actor, action="licence.issued", payload=payload)


def _unwritten_claims(session: AsyncSession, order: Order) -> list[OrderClaim]:
    """The order's claims made in this transaction and not written yet (an order placed and paid
    in one request): a change to them is written with their INSERT, not by an UPDATE after it.
    An order's claims are added together, so they are all written or none are."""
    return [c for c in session.new if isinstance(c, OrderClaim) and c.order_id == order.id]


async def claims_end(session: AsyncSession, order: Order, ends_at: datetime) -> None:
    """The order's live claims last until `ends_at` (written with the transaction's writes)."""
    if unwritten := _unwritten_claims(session, order):
        for claim in unwritten:
            claim.ends_at = ends_at
    else:
        repository.set_claims_end_with_writes(session, order.id, ends_at)


async def refuse(
    session: AsyncSession, order: Order, *, actor: str, reason: str, payload: Mapping[str, Any]
) -> None:
    """The money arrived, but the trade may not happen now: no licence; its unit and claims are
    released (the payment is refunded by the caller)."""
    await products.release_unit(session, order.product_id)
    await move(
        session,
        order,
        OrderStatus.REFUSED,
        actor=actor,
        action="order.refused",
        payload=payload,
        reason=reason,
    )


async def terminate(
    session: AsyncSession, order: Order, *, actor: str, reason: str, payload: Mapping[str, Any]
) -> None:
    """The licence ended before its term (rights revoked after the sale, or a partial refund
    ending it by its terms)."""
    await move(
        session,
        order,
        OrderStatus.TERMINATED,
        actor=actor,
        action="order.terminated",
        payload=payload,
        reason=reason,
    )


async def trade_terms(session: AsyncSession, order: Order) -> Quote:
    """The quote the order was made from: its purpose, scenario and territory, as the trade
    rules are run on again when the money arrives."""
    quote = await repository.quote(session, order.quote_id)
    assert quote is not None, "every order has its quote"
    return quote


def note_payment(order: Order, reference: str) -> None:
    """The payment provider's reference, shown with the order (webhooks find the order by it)."""
    order.payment_reference = reference


def note_delivery_blocked(order: Order, reason: str) -> None:
    """Paid but not delivered (the seller's right failed): say why on the order."""
    order.status_reason = f"delivery blocked: {reason}"


def commission_of(total_minor: int, settings: Settings, currency: str) -> int:
    """The exchange's commission on a price, half-up to the fen (fixed when the order is made)."""
    return Money.from_minor(total_minor, currency).times(settings.commission_rate).minor_units


def _check_availability(product: Product) -> None:
    if product.listing_status != "listed":
        raise Conflict(
            f"the product is {product.listing_status}, not listed; nothing was charged",
            code="product-not-listed",
        )
    if product.stock_limit is not None and product.sold_count >= product.stock_limit:
        raise SoldOut("this product is sold out (stock limit reached)")


async def create_order(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    payable: Payable,
    *,
    payment_provider: str,
    claims_with_writes: bool = False,
) -> Order:
    """The order for a payable quote (the quote row-locked), after the trade rules run again
    now. A refusal raises `ComplianceDenied`, keeping the decision and its audit entry; no
    order exists then."""
    quote, product = payable.quote, payable.product
    if principal.participant_id is None or quote.buyer_id != principal.participant_id:
        raise NotFound("quote not found")
    await verification.ensure_caller_verified(session, principal, "buy")
    if payable.already_ordered:
        raise Conflict("this quote has already been ordered", code="quote-already-ordered")
    if product.seller_id == principal.participant_id:
        raise InvalidInput("you cannot buy your own product", fields=[("body.quote_id", "own product")])
    _check_availability(product)
    # A quote is ordered at most once, so its order's id can follow from it: a retry after the
    # payment provider acted but its answer was lost names the same order, so the provider's
    # key (market:order:<id>) gives back the same PaymentIntent instead of making an orphan.
    order_id = uuid.uuid5(ORDER_IDS, str(quote.id))
    decision = await pass_trade_gate(
        session,
        actor=principal.actor,
        buyer_id=principal.participant_id,
        product=product,
        purpose=quote.purpose,
        scenario=quote.scenario,
        cross_border=quote.cross_border,
        decided_for=("order", str(order_id)),
        refused=("order.refused_by_compliance", "quote", str(quote.id)),
    )
    # `claims_with_writes`: nothing waits on a third party before this request's writes (paid
    # from a balance, or by bank transfer): the claims are checked in the statement that writes
    # them (issue 21: a round trip fewer).
    claims = await claim_resources(session, product, quote, order_id, check_later=claims_with_writes)
    commission = commission_of(quote.total_minor, settings, quote.currency)
    order = Order(
        id=order_id,
        quote_id=quote.id,
        product_id=product.id,
        buyer_id=principal.participant_id,
        seller_id=product.seller_id,
        total_minor=quote.total_minor,
        currency=quote.currency,
        commission_minor=commission,
        purpose=quote.purpose,
        scenario=quote.scenario,
        quantity=quote.quantity,
        payment_provider=payment_provider,
        status=OrderStatus.NEEDS_REVIEW
        if decision.outcome == "needs_review"
        else OrderStatus.PENDING_PAYMENT,
        created_at=now(),
        updated_at=now(),
    )
    # The quote's units join the buyer's window now, under the window's row lock (issue 20).
    await windows.hold_units(session, quote, order)
    if any(line.get("code") == "random_allocation" for line in quote.body.get("lines", [])):
        order.allocation_draw_id = await allocation.use_win(
            session, product, principal.participant_id, order.id, actor=principal.actor
        )
    # Written with the transaction's next flush, the order before its claims (the unit of work
    # orders mappers by name when no relationship says otherwise: Order < OrderClaim).
    added(session, order)
    for claim in claims:
        added(session, claim)
    products.reserve_unit(session, product, _check_availability)  # released when it ends unpaid
    # Its settlement in this transaction (paid from a balance) reads it again.
    kept(session, product)
    QUOTES.check(quote.status, QuoteStatus.ORDERED)
    quote.status = QuoteStatus.ORDERED
    await record(
        session,
        actor=principal.actor,
        action="order.created",
        subject_type="order",
        subject_id=order.id,
        payload={
            "quote_id": str(quote.id),
            "quote_digest": quote.digest,
            "product_id": str(product.id),
            "seller_id": str(product.seller_id),
            "buyer_id": str(order.buyer_id),
            "total_minor": order.total_minor,
            "currency": order.currency,
            "commission_minor": commission,
            "status": order.status,
            "compliance_decision": str(decision.id),
        },
    )
    # The abnormal-trade scan runs after this commits, outside the buyer's request (Art. 61).
    await enqueue(session, scan_jobs.scan_order, order_id=str(order.id))
    return order


async def get_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    order = await repository.get(session, order_id)
    if order is None or not (
        principal.can_see_all() or principal.participant_id in (order.buyer_id, order.seller_id)
    ):
        raise NotFound("order not found")
    return order


async def lock(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = await repository.get(session, order_id, lock=True)
    if order is None:
        raise NotFound("order not found")
    return order


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    role: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> list[Order]:
    return await repository.page(session, principal, role=role, status=status, cursor=cursor, limit=limit)


async def cancel_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, reason: str
) -> Order:
    order = await get_order(session, principal, order_id)
    if principal.participant_id != order.buyer_id and not principal.has("operator"):
        raise Forbidden("only the buyer or an operator can cancel an order")
    await products.release_unit(session, order.product_id)
    await move(
        session,
        order,
        OrderStatus.CANCELLED,
        actor=principal.actor,
        action="order.cancelled",
        payload={"reason": reason},
        reason=reason,
    )
    for let_go in _ENDED_UNPAID:
        await let_go(session, order)
    return order


async def review_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, approve: bool, reason: str
) -> Order:
    """An operator's decision on an order the trade rules parked for review. Approved, it waits
    for payment (the caller starts it); rejected, its reserved unit is released."""
    order = await lock(session, order_id)
    ORDERS.check(order.status, OrderStatus.PENDING_PAYMENT if approve else OrderStatus.REJECTED)
    await resolve_review(
        session,
        subject_type="order",
        subject_id=str(order.id),
        approve=approve,
        reason=reason,
        actor=principal.actor,
    )
    if not approve:
        await products.release_unit(session, order.product_id)
    await move(
        session,
        order,
        OrderStatus.PENDING_PAYMENT if approve else OrderStatus.REJECTED,
        actor=principal.actor,
        action="order.reviewed",
        payload={"approved": approve, "reason": reason},
        reason=None if approve else reason,
    )
    return order


async def complete_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """The buyer confirms receipt: the trade is complete and the seller's payout is due."""
    order = await get_order(session, principal, order_id)
    if principal.participant_id != order.buyer_id:
        raise Forbidden("only the buyer confirms receipt")
    if order.status != OrderStatus.DELIVERED:
        # A disputed order returns to completed only through its dispute's resolution.
        raise InvalidTransition(
            f"only a delivered order is accepted; this one is {order.status}",
            code=ORDERS.code,
            extra={"current_status": order.status, "requested_status": OrderStatus.COMPLETED},
        )
    await move(
        session,
        order,
        OrderStatus.COMPLETED,
        actor=principal.actor,
        action="order.completed",
        payload={"seller_proceeds_minor": order.total_minor - order.commission_minor},
    )
    return order


async def party_check(session: AsyncSession, participant_id: uuid.UUID, order_id: uuid.UUID) -> bool:
    return await repository.is_party(session, participant_id, order_id)


# The payment's client secret (a card payment the buyer confirms in a browser) is shown with
# the order while it waits for payment. Payments live above orders and register how to read it.
ClientSecrets = Callable[[AsyncSession, Sequence[Order]], Awaitable[dict[uuid.UUID, str]]]
_CLIENT_SECRETS: list[ClientSecrets] = []


def register_client_secrets(reader: ClientSecrets) -> None:
    _CLIENT_SECRETS[:] = [reader]


# An order cancelled before it was paid may have a payment waiting at a provider, whose client
# secret was shown: payments (above orders) let go of it once the cancellation commits.
EndedUnpaid = Callable[[AsyncSession, Order], Awaitable[None]]
_ENDED_UNPAID: list[EndedUnpaid] = []


def register_ended_unpaid(let_go: EndedUnpaid) -> None:
    _ENDED_UNPAID[:] = [let_go]


async def client_secrets(session: AsyncSession, orders: Sequence[Order]) -> dict[uuid.UUID, str]:
    waiting = [o for o in orders if o.status == OrderStatus.PENDING_PAYMENT]
    if not waiting or not _CLIENT_SECRETS:
        return {}
    return await _CLIENT_SECRETS[0](session, waiting)


register_party_check("order", party_check)
# The cross-border thresholds count what a seller has already provided abroad this year.
register_resources_sold_abroad(repository.resources_sold_abroad)


async def trade_totals(
    session: AsyncSession, *, period: str, since: datetime | None, until: datetime | None
) -> list[TradeTotals]:
    return await repository.trade_totals(session, period=period, since=since, until=until)
