"""Order use cases: buy from a quote, pay, deliver, cancel, refund.

Oversell is impossible by construction: the product row is locked (SELECT ... FOR UPDATE) while
stock and exclusivity are checked and the reservation is counted, so concurrent buyers queue on
that one row and only as many succeed as there is stock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.service import scan_order, scan_refusals
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog.models import Product
from market.common.clock import now
from market.compliance.models import ComplianceDecisionRow
from market.compliance.service import gate_trade, resolve_review
from market.errors import Conflict, Forbidden, InvalidInput, MarketError, NotFound
from market.orders.models import Order, Quote
from market.payments import ledger
from market.payments.models import Payment
from market.payments.provider import PaymentProvider, provider_call
from market.settings import Settings

ACTIVE_STATES = ("pending_payment", "needs_review", "paid", "delivered", "completed", "disputed")


class SoldOut(Conflict):
    code = "sold-out"


class InvalidTransition(Conflict):
    code = "invalid-order-state"


@dataclass(frozen=True)
class OrderRefused:
    """The trade rules refused the order: the decision is kept (and audited), no order exists."""

    decision: ComplianceDecisionRow


async def _locked_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    stmt = select(Product).where(Product.id == product_id).with_for_update()
    product = (await session.execute(stmt)).scalar_one_or_none()
    if product is None:
        raise NotFound("product not found")
    return product


async def _check_availability(session: AsyncSession, product: Product) -> None:
    if product.listing_status != "listed":
        raise Conflict(
            f"the product is {product.listing_status}, not listed; nothing was charged",
            code="product-not-listed",
        )
    if product.stock_limit is not None and product.sold_count >= product.stock_limit:
        raise SoldOut("this product is sold out (stock limit reached)")
    if product.exclusivity == "exclusive":
        active = await session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.product_id == product.id, Order.status.in_(ACTIVE_STATES))
        )
        if active:
            raise SoldOut("the exclusive licence for this term has already been sold")


ORDER_IDS = uuid.UUID("0b5e7c1a-3f2d-4e8b-a6c4-9d1f2e7a5b38")  # uuid5 namespace of order ids


async def create_order(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    principal: Principal,
    quote: Quote,
) -> Order | OrderRefused:
    if principal.participant_id is None or quote.buyer_id != principal.participant_id:
        raise NotFound("quote not found")
    # The product row lock and "is this quote ordered already?" in one statement.
    ordered = exists().where(Order.quote_id == quote.id)
    stmt = select(Product, ordered).where(Product.id == quote.product_id).with_for_update(of=Product)
    found = (await session.execute(stmt)).one_or_none()
    if found is None:
        raise NotFound("product not found")
    product, already_ordered = found
    if already_ordered:
        raise Conflict("this quote has already been ordered", code="quote-already-ordered")
    if product.seller_id == principal.participant_id:
        raise InvalidInput("you cannot buy your own product", fields=[("body.quote_id", "own product")])
    await _check_availability(session, product)
    # A quote is ordered at most once, so its order's id can follow from it: a retry after the
    # payment provider acted but its answer was lost names the same order, so the provider's
    # key (market:order:<id>) gives back the same PaymentIntent instead of making an orphan.
    order_id = uuid.uuid5(ORDER_IDS, str(quote.id))
    decision = await gate_trade(
        session,
        product=product,
        buyer_id=principal.participant_id,
        purpose=quote.purpose,
        scenario=quote.scenario,
        cross_border=quote.cross_border,
        actor=principal.actor,
        subject_type="order",
        subject_id=str(order_id),
    )
    if decision.outcome == "deny":
        await record(
            session,
            actor=principal.actor,
            action="order.refused_by_compliance",
            subject_type="quote",
            subject_id=quote.id,
            payload={
                "decision_id": str(decision.id),
                "product_id": str(product.id),
                "buyer_id": str(principal.participant_id),
            },
        )
        await scan_refusals(session, principal.participant_id)
        return OrderRefused(decision)
    commission = ledger.commission_minor(quote.total_minor, settings.commission_rate, quote.currency)
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
        payment_provider=provider.name,
        status="needs_review" if decision.outcome == "needs_review" else "pending_payment",
        created_at=now(),
        updated_at=now(),
    )
    session.add(order)
    product.sold_count += 1  # the reservation, released on cancellation or rejection
    quote.status = "ordered"
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
    await session.flush()  # the abnormal-trade scan counts this order too
    await scan_order(session, order)
    if order.status == "pending_payment":
        await start_payment(session, provider, order)
    return order


async def start_payment(session: AsyncSession, provider: PaymentProvider, order: Order) -> Payment:
    async with provider_call(provider.name, "create the payment"):
        created = await provider.create_payment(
            order_id=str(order.id),
            quote_id=str(order.quote_id),
            amount_minor=order.total_minor,
            currency=order.currency,
        )
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        provider_ref=created.reference,
        amount_minor=order.total_minor,
        currency=order.currency,
        client_secret=created.client_secret,
    )
    session.add(payment)
    order.payment_reference = created.reference
    await session.flush()
    await record(
        session,
        actor="system",
        action="payment.created",
        subject_type="order",
        subject_id=order.id,
        payload={
            "provider": provider.name,
            "reference": created.reference,
            "amount_minor": order.total_minor,
        },
    )
    if created.status == "succeeded":
        await payment_succeeded(session, payment, actor="system")
    return payment


async def payment_succeeded(
    session: AsyncSession, payment: Payment, *, actor: str, order: Order | None = None
) -> Order | None:
    """Record a successful charge once and return the paid order; later duplicates and late
    arrivals change nothing (None). `order`: the payment's order, when the caller already
    holds its row lock."""
    if payment.status != "requires_payment" and payment.status != "failed":
        return None
    if order is None:
        order = await session.get(Order, payment.order_id, with_for_update=True)
    assert order is not None and order.id == payment.order_id
    payment.status = "succeeded"
    order.status = "paid"
    order.paid_at = now()
    await ledger.post(
        session,
        order.id,
        order.currency,
        ledger.charge_lines(order.total_minor, order.commission_minor),
    )
    await record(
        session,
        actor=actor,
        action="order.paid",
        subject_type="order",
        subject_id=order.id,
        payload={
            "reference": payment.provider_ref,
            "amount_minor": payment.amount_minor,
            "commission_minor": order.commission_minor,
            "seller_proceeds_minor": order.total_minor - order.commission_minor,
        },
    )
    from market.delivery.service import deliver

    await deliver(session, order, actor=actor)
    return order


async def payment_failed(session: AsyncSession, payment: Payment, reason: str) -> bool:
    if payment.status != "requires_payment":
        return False
    payment.status = "failed"
    payment.failure_reason = reason
    await record(
        session,
        actor="system",
        action="payment.failed",
        subject_type="order",
        subject_id=payment.order_id,
        payload={"reason": reason},
    )
    return True


async def get_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("order not found")
    if not principal.can_see_all() and principal.participant_id not in (
        order.buyer_id,
        order.seller_id,
    ):
        raise NotFound("order not found")
    return order


async def cancel_order(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, reason: str
) -> Order:
    order = await get_order(session, principal, order_id)
    if principal.participant_id != order.buyer_id and not principal.has("operator"):
        raise Forbidden("only the buyer or an operator can cancel an order")
    product = await _locked_product(session, order.product_id)
    if order.status not in ("pending_payment", "needs_review"):
        raise InvalidTransition(f"an order that is {order.status} cannot be cancelled; ask for a refund")
    order.status = "cancelled"
    order.status_reason = reason
    product.sold_count -= 1
    await record(
        session,
        actor=principal.actor,
        action="order.cancelled",
        subject_type="order",
        subject_id=order.id,
        payload={"reason": reason},
    )
    return order


async def review_order(
    session: AsyncSession,
    provider: PaymentProvider,
    principal: Principal,
    order_id: uuid.UUID,
    approve: bool,
    reason: str,
) -> Order:
    order = await session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound("order not found")
    if order.status != "needs_review":
        raise InvalidTransition(f"the order is {order.status}, not waiting for review")
    await resolve_review(
        session,
        subject_type="order",
        subject_id=str(order.id),
        approve=approve,
        reason=reason,
        actor=principal.actor,
    )
    if approve:
        order.status = "pending_payment"
        await start_payment(session, provider, order)
    else:
        product = await _locked_product(session, order.product_id)
        product.sold_count -= 1
        order.status = "rejected"
        order.status_reason = reason
    await record(
        session,
        actor=principal.actor,
        action="order.reviewed",
        subject_type="order",
        subject_id=order.id,
        payload={"approved": approve, "reason": reason},
    )
    return order


async def complete_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """The buyer confirms receipt: the trade is complete and the seller's payout is due."""
    order = await get_order(session, principal, order_id)
    if principal.participant_id != order.buyer_id:
        raise Forbidden("only the buyer confirms receipt")
    if order.status != "delivered":
        raise InvalidTransition(f"an order that is {order.status} cannot be completed")
    order.status = "completed"
    await record(
        session,
        actor=principal.actor,
        action="order.completed",
        subject_type="order",
        subject_id=order.id,
        payload={"seller_proceeds_minor": order.total_minor - order.commission_minor},
    )
    return order


def order_summary(order: Order) -> dict[str, Any]:
    return {"id": str(order.id), "status": order.status, "total_minor": order.total_minor}


class PaymentNotFound(MarketError):
    code, title, status = "payment-not-found", "Payment not found", 404
