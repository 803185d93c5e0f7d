"""Refunds in two steps, so that nothing waits on the payment provider while holding a lock.

1. `request_refund`, in the transaction that decides it (an operator, a dispute's resolution,
   the trade rules at payment, a revoked right): the amount is checked against what is left,
   booked as owed to the buyer (the seller's share and the commission's), and the refund row is
   written `requested`.
2. `execute_refunds`, after that transaction committed (`after_commit`, or the retry job): the
   provider is asked with a key derived from the refund's id, so it refunds once however often
   it is asked; then a short transaction books the money as gone and applies what a refund does
   to the trade (`complete_refund`). A refusal releases the amount and raises an alert.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.catalog import products
from market.common.clock import now
from market.db.session import after_commit
from market.delivery import licence_changes as licences
from market.errors import Conflict, InvalidInput
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import SETTLED, OrderStatus
from market.payments import disputes, escrow, ledger, repository
from market.payments.accounts import service as accounts
from market.payments.models import Payment, Refund
from market.payments.provider import (
    PAYMENT_PROVIDER,
    PaymentProvider,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
    ProviderRefund,
    provider_call,
)
from market.payments.service import move_payment
from market.payments.states import CAPTURED, REFUNDS, PaymentStatus, RefundStatus
from market.revenue_caps import service as revenue_caps
from market.runtime import Runtime

log = logging.getLogger("market.payments.refunds")


async def refundable(session: AsyncSession, payment: Payment) -> int:
    """What is left of the payment to refund: neither refunded nor already owed back."""
    return payment.amount_minor - await repository.committed_refunds(session, payment.id)


async def request_refund(
    session: AsyncSession,
    order: Order,
    payment: Payment,
    amount: int,
    *,
    reason: str,
    actor: str,
    source: str,
    refund_id: uuid.UUID | None = None,
) -> Refund:
    """Decide a refund (step 1): book `amount` as owed to the buyer and write the refund row.
    The caller holds the payment's and the order's locks; `queue` it for the provider."""
    if payment.status not in CAPTURED:
        raise Conflict(
            f"the payment is {payment.status}: there is nothing to refund", code="invalid-payment-state"
        )
    left = await refundable(session, payment)
    if not 1 <= amount <= left:
        raise InvalidInput(
            f"a refund must be between 1 and {left} fen (what is left of the payment)",
            fields=[("body.amount_minor", f"must be 1..{left}")],
        )
    payout = await escrow.payout_of(session, order.id)
    balances = await ledger.balances(session, order.id)
    commission_back = ledger.commission_share(
        amount,
        total_minor=payment.amount_minor,
        commission=order.commission_minor,
        refunded_before=payment.amount_minor - left,
        commission_left=-balances.get(ledger.COMMISSION_REVENUE, 0),
    )
    movement = await ledger.post(
        session,
        order.id,
        order.currency,
        ledger.refund_owed_lines(
            amount, commission_back=commission_back, seller_account=escrow.account_of(payout)
        ),
    )
    refund = Refund(
        id=refund_id or uuid.uuid4(),
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason,
        source=source,
        status=RefundStatus.REQUESTED,
        requested_by=actor,
        movement_id=movement,
        created_at=now(),
    )
    session.add(refund)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="refund.requested",
        subject_type="order",
        subject_id=order.id,
        payload={
            "refund_id": str(refund.id),
            "amount_minor": amount,
            "commission_back_minor": commission_back,
            "source": source,
            "reason": reason,
        },
    )
    return refund


def queue(session: AsyncSession, refunds: Sequence[Refund]) -> None:
    """Ask the provider for these refunds once the deciding transaction has committed."""
    ids = [r.id for r in refunds if r.status == RefundStatus.REQUESTED]
    if ids:

        async def _execute(runtime: Runtime) -> None:
            await execute_refunds(runtime.sessionmaker, runtime.port(PAYMENT_PROVIDER), ids, quiet=True)

        after_commit(session, _execute)


async def complete_refund(
    session: AsyncSession, refund: Refund, order: Order, payment: Payment, *, actor: str
) -> None:
    """The money went back (step 2): book it, and do what a refund does to the trade. A full
    refund ends the licence and the order, and cancels the seller's payout; a partial one
    narrows the licence (or ends it) as its terms say."""
    REFUNDS.check(refund.status, RefundStatus.SUCCEEDED)
    refund.status, refund.completed_at = RefundStatus.SUCCEEDED, now()
    if payment.provider == accounts.ACCOUNT:
        # Paid from a prepaid balance: the refund goes back to that balance.
        account_id = await accounts.refund_to_balance(
            session, order.buyer_id, order.currency, refund.amount_minor
        )
        lines = ledger.refund_paid_lines(refund.amount_minor, target=ledger.PREPAID)
        await ledger.post(session, order.id, order.currency, lines, account_id=account_id)
    else:
        await ledger.post(session, order.id, order.currency, ledger.refund_paid_lines(refund.amount_minor))
    payment.refunded_minor += refund.amount_minor
    full = payment.refunded_minor == payment.amount_minor
    product = await products.find(session, order.product_id)
    if product is not None and order.paid_at is not None:
        # Revenue is net of refunds, in the year of the sale (发改价格〔2025〕65号).
        await revenue_caps.record_revenue(session, product, order.paid_at, -refund.amount_minor, actor=actor)
    await move_payment(
        session,
        payment,
        PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED,
        actor=actor,
        payload={"refund_id": str(refund.id), "refunded_total_minor": payment.refunded_minor},
    )
    payload = {
        "refund_id": str(refund.id),
        "amount_minor": refund.amount_minor,
        "refunded_total_minor": payment.refunded_minor,
        "full": full,
        "reason": refund.reason,
    }
    await record(
        session,
        actor=actor,
        action="refund.succeeded",
        subject_type="order",
        subject_id=order.id,
        payload=payload,
    )
    if full:
        await escrow.cancel(
            session, await escrow.payout_of(session, order.id), actor=actor, why="refunded in full"
        )
        await disputes.close_open(session, order.id, actor=actor, reason=f"refunded in full: {refund.reason}")
        await licences.revoke_for_order(session, order, reason="refunded", actor=actor)
        if order.status in SETTLED:
            await orders.move(
                session, order, OrderStatus.REFUNDED, actor=actor, action="order.refunded", payload=payload
            )
        return
    kept = Fraction(payment.amount_minor - payment.refunded_minor, payment.amount_minor)
    effect = await licences.apply_partial_refund(session, order, kept, actor=actor, reason=refund.reason)
    if effect == "ended" and order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        await orders.terminate(
            session,
            order,
            actor=actor,
            reason="the licence ended with a partial refund, as its terms say",
            payload=payload,
        )


async def fail_refund(session: AsyncSession, refund: Refund, order: Order, *, why: str) -> None:
    """The provider refused: the amount owed is released back where it came from, and operators
    are told (the trade's state stands; an operator may refund again another way)."""
    REFUNDS.check(refund.status, RefundStatus.FAILED)
    refund.status, refund.failure_reason, refund.completed_at = RefundStatus.FAILED, why, now()
    if refund.movement_id is not None:
        booked = await ledger.movement(session, refund.movement_id)
        await ledger.post(session, order.id, order.currency, ledger.reversal(booked, "refund_cancelled"))
    await record(
        session,
        actor="system",
        action="refund.failed",
        subject_type="order",
        subject_id=order.id,
        payload={"refund_id": str(refund.id), "amount_minor": refund.amount_minor, "why": why},
    )
    await raise_alert(
        session,
        Finding(
            rule="refund-failed",
            severity="high",
            summary=f"the payment provider refused a refund of {refund.amount_minor} fen: {why}",
            evidence={"refund_id": str(refund.id), "source": refund.source, "reason": refund.reason},
        ),
        "order",
        str(order.id),
    )


async def _locked(session: AsyncSession, refund_id: uuid.UUID) -> tuple[Refund, Payment, Order]:
    """The refund, its payment and its order, locked in the order every path takes them."""
    found = await repository.refund(session, refund_id)
    assert found is not None
    payment = await repository.payment(session, found.payment_id, lock=True)
    assert payment is not None
    order = await orders.lock(session, payment.order_id)
    refund = await repository.refund(session, refund_id, lock=True)
    assert refund is not None
    return refund, payment, order


async def _book(session: AsyncSession, refund_id: uuid.UUID, done: ProviderRefund) -> Refund:
    refund, payment, order = await _locked(session, refund_id)
    if refund.status == RefundStatus.REQUESTED:
        refund.provider_ref = refund.provider_ref or done.reference
        if done.status == "succeeded":
            await complete_refund(session, refund, order, payment, actor="system")
    return refund


async def execute_refund(
    sessionmaker: async_sessionmaker[AsyncSession], provider: PaymentProvider, refund_id: uuid.UUID
) -> Refund | None:
    """Ask the provider for a requested refund and book its answer (step 2). Holds no lock while
    the provider is asked. Raises the provider's 503 (unreachable: still requested, retried by
    the job or the caller with the same key) or 502 (refused: released). None: no such refund
    (its decision was rolled back)."""
    async with sessionmaker() as session:
        refund = await repository.refund(session, refund_id)
        if refund is None or refund.status != RefundStatus.REQUESTED:
            return refund
        payment = await repository.payment(session, refund.payment_id)
        assert payment is not None
        reference, amount = payment.provider_ref, refund.amount_minor
        if payment.provider == accounts.ACCOUNT:
            provider = accounts.BalanceRefunds()
    try:
        async with provider_call(provider.name, "refund"):
            done = await provider.refund(
                payment_reference=reference, refund_id=str(refund_id), amount_minor=amount
            )
    except PaymentProviderUnavailable as unavailable:
        raise PaymentProviderUnavailable(
            f"{provider.name} could not be asked for the refund now; it is recorded as requested "
            "and asked again automatically (a retry with the same Idempotency-Key is safe too). "
            "Nothing went back yet."
        ) from unavailable
    except PaymentProviderRefused as refused:
        async with sessionmaker() as session, session.begin():
            refund, _, order = await _locked(session, refund_id)
            if refund.status == RefundStatus.REQUESTED:
                await fail_refund(session, refund, order, why=refused.message)
        raise
    async with sessionmaker() as session, session.begin():
        return await _book(session, refund_id, done)


async def execute_refunds(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: PaymentProvider,
    refund_ids: Sequence[uuid.UUID],
    *,
    quiet: bool = False,
) -> int:
    """`execute_refund` for each; with `quiet`, a provider's trouble with one is logged (the
    job retries it) and the others go on. Returns how many the provider confirmed."""
    done = 0
    for refund_id in refund_ids:
        try:
            refund = await execute_refund(sessionmaker, provider, refund_id)
            done += refund is not None and refund.status == RefundStatus.SUCCEEDED
        except Exception:
            if not quiet:
                raise
            log.warning(
                "refund not executed now; the job retries it",
                extra={"refund_id": str(refund_id)},
                exc_info=True,
            )
    return done
