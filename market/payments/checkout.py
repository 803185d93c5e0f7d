"""Buying: an order from a quote, and its payment started at once (or after an operator's
review). The order's own rules are the orders feature's; this adds the money.

Paid from a prepaid balance, the order settles in its own transaction: the price is taken from
the balance (402 when it is short, and nothing is kept), booked, held in escrow for the seller,
and the licence issued, so a machine buyer buys in two requests (quote, order)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.delivery import service as delivery
from market.orders import service as orders
from market.orders.models import Order
from market.orders.quotes import load_payable_quote
from market.orders.states import OrderStatus
from market.payments.accounts import service as accounts
from market.payments.arrival import new_payment, payment_succeeded, start_payment
from market.payments.provider import PaymentProvider
from market.settings import Settings


async def place_order(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    principal: Principal,
    quote_id: uuid.UUID,
    *,
    from_balance: bool = False,
) -> Order:
    payable = await load_payable_quote(session, settings, quote_id, principal.participant_id, now())
    order = await orders.create_order(
        session,
        settings,
        principal,
        payable,
        payment_provider=accounts.ACCOUNT if from_balance else provider.name,
        # Nothing is asked of a third party before the order's writes (paid from a balance, or
        # through a provider that asks no one): its claims are checked in the statement that
        # writes them, not in a round trip of their own.
        claims_with_writes=from_balance or not provider.asks_a_third_party,
    )
    if order.status == OrderStatus.PENDING_PAYMENT:
        if from_balance:
            # The order's endpoint writes everything in one statement with its idempotency
            # record before it answers: the money is taken there too.
            await pay_from_balance(session, settings, order, actor=principal.actor, with_writes=True)
        else:
            await start_payment(session, settings, provider, order)
    return order


async def pay_from_balance(
    session: AsyncSession, settings: Settings, order: Order, *, actor: str, with_writes: bool = False
) -> None:
    """Take the order's price from the buyer's balance and settle it now (paid, held in escrow,
    licence issued); raises 402 (nothing kept) when the balance is short."""
    account_id = await accounts.debit(
        session, order.buyer_id, order.currency, order.total_minor, with_writes=with_writes
    )
    payment = new_payment(session, order, accounts.ACCOUNT, f"account_{order.id}")
    await record(
        session,
        actor=actor,
        action="payment.created",
        subject_type="order",
        subject_id=order.id,
        payload={
            "provider": accounts.ACCOUNT,
            "reference": payment.provider_ref,
            "amount_minor": order.total_minor,
            "account_id": str(account_id),
        },
    )
    await payment_succeeded(session, settings, payment, actor=actor, order=order, account_id=account_id)


async def delivery_now(
    session: AsyncSession, settings: Settings, principal: Principal, order: Order
) -> dict[str, Any] | None:
    """The delivery of an order settled in this request (its API credential, shown this once,
    or a download token), or None if it was not delivered."""
    if order.licence_id is None:
        return None
    return await delivery.first_delivery(session, settings, principal, order.licence_id)


async def review_order(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    principal: Principal,
    order_id: uuid.UUID,
    *,
    approve: bool,
    reason: str,
) -> Order:
    """An operator's review of a parked order; approved, its payment starts now (an order to be
    paid from a balance is paid from it now: 402, and the approval not kept, if it is short)."""
    order = await orders.review_order(session, principal, order_id, approve, reason)
    if approve:
        if order.payment_provider == accounts.ACCOUNT:
            await pay_from_balance(session, settings, order, actor=principal.actor)
        else:
            await start_payment(session, settings, provider, order)
    return order
