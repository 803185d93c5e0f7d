"""Money arriving: a payment started for an order, then succeeded (an operator confirms a bank
transfer, or the provider reports it). The charge is booked and held in escrow; the trade rules
run again on today's facts; then the licence is issued, or, if the trade may no longer happen,
the order is refused and the payment refunded. No path leaves a buyer paid without a licence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import products
from market.catalog.models import Product
from market.common.clock import now
from market.compliance.service import denial, gate_trade
from market.db.detached import added
from market.delivery import service as delivery
from market.errors import Conflict, NotFound
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import OrderStatus
from market.payments import escrow, ledger, refunds, repository
from market.payments.models import Payment, Refund
from market.payments.provider import PaymentProvider, ProviderPayment, provider_call
from market.payments.service import move_payment
from market.payments.states import PAYMENTS, PaymentStatus
from market.revenue_caps import service as revenue_caps
from market.settings import Settings


def new_payment(
    session: AsyncSession, order: Order, provider: str, reference: str, client_secret: str | None = None
) -> Payment:
    """The order's payment, waiting for its money, added to the session with every value it
    starts with (written with the request's other writes, market.db.together)."""
    at = now()
    payment = Payment(
        id=uuid.uuid4(),
        order_id=order.id,
        provider=provider,
        provider_ref=reference,
        amount_minor=order.total_minor,
        currency=order.currency,
        status=PaymentStatus.REQUIRES_PAYMENT,
        refunded_minor=0,
        client_secret=client_secret,
        created_at=at,
        updated_at=at,
    )
    added(session, payment)
    orders.note_payment(order, reference)
    return payment


@dataclass(frozen=True)
class Charge:
    """What the provider is asked to collect for an order, read off the order so that the
    provider can be asked once the order's transaction has ended (its objects expired)."""

    order_id: uuid.UUID
    quote_id: uuid.UUID
    amount_minor: int
    currency: str

    @classmethod
    def of(cls, order: Order) -> Charge:
        return cls(order.id, order.quote_id, order.total_minor, order.currency)


async def ask_for_payment(provider: PaymentProvider, charge: Charge) -> ProviderPayment:
    """The provider's payment for the charge (a card provider keys it by the order's id, so
    asking again gives back the same payment); nothing is written."""
    async with provider_call(provider.name, "create the payment"):
        return await provider.create_payment(
            order_id=str(charge.order_id),
            quote_id=str(charge.quote_id),
            amount_minor=charge.amount_minor,
            currency=charge.currency,
        )


async def book_payment(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    order: Order,
    created: ProviderPayment,
) -> Payment:
    """The payment the provider created for the order (`ask_for_payment`), kept with its audit
    entry; settled now when the provider says it succeeded already."""
    payment = new_payment(session, order, provider.name, created.reference, created.client_secret)
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
        await payment_succeeded(session, settings, payment, actor="system", order=order)
    return payment


async def start_payment(
    session: AsyncSession, settings: Settings, provider: PaymentProvider, order: Order
) -> Payment:
    """The order's payment asked of the provider and booked, in the caller's transaction: for a
    provider that asks no third party (market.payments.checkout asks one with none open)."""
    created = await ask_for_payment(provider, Charge.of(order))
    return await book_payment(session, settings, provider, order, created)


async def payment_succeeded(
    session: AsyncSession,
    settings: Settings,
    payment: Payment,
    *,
    actor: str,
    order: Order | None = None,
    account_id: uuid.UUID | None = None,
) -> Order | None:
    """Record a successful charge once and return its order (delivered, or refused and being
    refunded); later duplicates and late arrivals change nothing (None). `order`: the payment's
    order, when the caller already holds its row lock. `account_id`: the prepaid account the
    price was just taken from, in this transaction, right after the order passed the trade
    rules (they are not asked twice in one transaction)."""
    if not PAYMENTS.can(payment.status, PaymentStatus.SUCCEEDED):
        return None
    if order is None:
        order = await orders.lock(session, payment.order_id)
    assert order.id == payment.order_id
    await move_payment(
        session,
        payment,
        PaymentStatus.SUCCEEDED,
        actor=actor,
        payload={"reference": payment.provider_ref, "amount_minor": payment.amount_minor},
    )
    source = ledger.CLEARING if account_id is None else ledger.PREPAID
    await ledger.post(
        session,
        order.id,
        order.currency,
        ledger.charge_lines(order.total_minor, order.commission_minor, source=source),
        account_id=account_id,
    )
    await escrow.open_payout(session, order, window_days=settings.acceptance_window_days, actor=actor)
    if order.status != OrderStatus.PENDING_PAYMENT:
        # The buyer paid an order that no longer waits for it (cancelled meanwhile): it goes back.
        why = f"the payment arrived for an order that is {order.status}"
        refunds.queue(session, [await _refund_all(session, order, payment, actor=actor, why=why)])
        return order
    # Held here until the licence is issued: the session keeps only a weak reference to an
    # unchanged object, and the rules, the revenue cap and the licence all ask for it.
    product = await products.find(session, order.product_id)
    assert product is not None
    refusal = (
        None if account_id is not None else await _trade_refused_now(session, order, product, actor=actor)
    )
    if refusal is not None:
        await _refuse(session, order, payment, actor=actor, why=refusal[0], decision_id=refusal[1])
        return order
    await orders.mark_paid(
        session,
        order,
        actor=actor,
        payload={
            "reference": payment.provider_ref,
            "amount_minor": payment.amount_minor,
            "commission_minor": order.commission_minor,
            "seller_proceeds_minor": order.total_minor - order.commission_minor,
        },
    )
    if order.paid_at is not None:
        # 发改价格〔2025〕65号: the product-year's revenue against its maximum permitted revenue.
        await revenue_caps.record_revenue(session, product, order.paid_at, order.total_minor, actor=actor)
    if await delivery.deliver(session, order, actor=actor) is None:
        # The rules allowed it but no licence can be derived (e.g. no operating right over the
        # product any more, Art. 22): refused all the same.
        await _refuse(
            session, order, payment, actor=actor, why=order.status_reason or "no licence", decision_id=None
        )
    return order


async def _trade_refused_now(
    session: AsyncSession, order: Order, product: Product, *, actor: str
) -> tuple[str, str] | None:
    """The trade rules on the facts as they are when the money arrives (the buyer may have been
    blacklisted, the seller's chain broken, since the order): the refusal's reasons and decision,
    or None when the trade may go ahead (a review the order already passed is not asked again).
    The resources' rows are share-locked: a revocation of a right over them waits for the licence
    issued next, and then finds it (market.rights.tree_reads); orders over them do not wait."""
    quote = await orders.trade_terms(session, order)
    decision = await gate_trade(
        session,
        product=products.compliance_subject(product, lock_resources="settle"),
        buyer_id=order.buyer_id,
        purpose=order.purpose,
        scenario=order.scenario,
        cross_border=quote.cross_border,
        actor=actor,
        subject_type="order",
        subject_id=str(order.id),
    )
    if decision.outcome != "deny":
        return None
    return denial(decision).message, str(decision.id)


async def _refund_all(
    session: AsyncSession, order: Order, payment: Payment, *, actor: str, why: str
) -> Refund:
    return await refunds.request_refund(
        session,
        order,
        payment,
        await refunds.refundable(session, payment),
        reason=why,
        actor=actor,
        source="compliance",
    )


async def _refuse(
    session: AsyncSession, order: Order, payment: Payment, *, actor: str, why: str, decision_id: str | None
) -> None:
    refund = await _refund_all(session, order, payment, actor=actor, why=f"payment received, then {why}")
    await orders.refuse(
        session,
        order,
        actor=actor,
        reason=f"payment received, then {why}; the payment is refunded",
        payload={"decision_id": decision_id, "reasons": why, "refund_id": str(refund.id)},
    )
    refunds.queue(session, [refund])


async def confirm_offline(
    session: AsyncSession, settings: Settings, principal: Principal, order_id: uuid.UUID
) -> Order:
    """An operator confirms a bank transfer arrived."""
    # The payment and its order, both row-locked by one statement, with the product and the
    # quote that the settlement reads (kept here, so the session finds them).
    found = await repository.payment_with_trade(session, order_id)
    if found is None:
        raise NotFound("no payment for this order")
    payment, order, _product, _quote = found
    if payment.provider != "offline":
        raise Conflict("only offline payments are confirmed by hand")
    if await payment_succeeded(session, settings, payment, actor=principal.actor, order=order) is None:
        raise Conflict(f"the payment is already {payment.status}", code="invalid-payment-state")
    return order
