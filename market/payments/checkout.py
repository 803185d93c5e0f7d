"""Buying: an order from a quote, and its payment started at once (or after an operator's
review). The order's own rules are the orders feature's; this adds the money.

Paid from a prepaid balance, the order settles in its own transaction: the price is taken from
the balance (402 when it is short, and nothing is kept), booked, held in escrow for the seller,
and the licence issued, so a machine buyer buys in two requests (quote, order).

Paid through a provider that asks a third party (a card processor), nothing waits on it while
holding a row lock (the refunds' rule, market.payments.refunds): the order is decided once to
check it, that transaction is rolled back, the provider is asked with no transaction open, and
the order is decided again, under its locks, in a new transaction that keeps it with the
payment the provider made. The provider's key is the order's id, which follows from the quote,
so the second decision and any retry name the payment the provider made for the first."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.db.direct import settle_rider
from market.db.session import discard_after_commit
from market.delivery import service as delivery
from market.orders import service as orders
from market.orders.models import Order
from market.orders.quotes import load_payable_quote
from market.orders.states import OrderStatus
from market.payments.accounts import service as accounts
from market.payments.arrival import (
    Charge,
    ask_for_payment,
    book_payment,
    new_payment,
    payment_succeeded,
    start_payment,
)
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
    """The order for the caller's quote, its payment started (settled at once when paid from
    the balance), or parked for review with none; a refusal raises."""
    asks_a_third_party = provider.asks_a_third_party and not from_balance
    if asks_a_third_party:
        await _commit_what_came_before(session)
    decide = partial(
        _order_from_quote, session, settings, provider, principal, quote_id, from_balance=from_balance
    )
    order = await decide()
    if order.status != OrderStatus.PENDING_PAYMENT:
        return order
    if from_balance:
        # The order's endpoint writes everything in one statement with its idempotency record
        # before it answers: the money is taken there too.
        await pay_from_balance(session, settings, order, actor=principal.actor, with_writes=True)
    elif not asks_a_third_party:
        await start_payment(session, settings, provider, order)
    else:
        # Decided again under its locks: meanwhile the quote may have been ordered, the stock
        # sold out, or the rules may refuse or park the trade; each raises or answers as it
        # would have at first.
        order = await _decided_again_around_the_provider(session, settings, provider, order, decide)
    return order


async def _order_from_quote(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    principal: Principal,
    quote_id: uuid.UUID,
    *,
    from_balance: bool,
) -> Order:
    payable = await load_payable_quote(session, settings, quote_id, principal.participant_id, now())
    return await orders.create_order(
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


async def _commit_what_came_before(session: AsyncSession) -> None:
    """Keep what the request changed before its order's check (an API key's last use, written
    by the caller's check): the check is rolled back before the provider is asked, and would
    take it along."""
    if session.dirty:
        await session.commit()


async def _end_the_check(session: AsyncSession) -> None:
    """Roll back the transaction that checked the order, keeping none of it: its row locks are
    released and its connection goes back to the pool before a third party is asked."""
    # A caller whose credential no read has checked yet has nothing asked for it (a no-op once
    # the check's first read carried it, as it does: market.db.direct.Rider).
    await settle_rider(session)
    discard_after_commit(session)
    await session.rollback()
    # The rollback expired the objects the session holds; the next decision reads its rows
    # afresh (a direct read hands back an object the session holds as it is, expired or not).
    session.expunge_all()


async def _decided_again_around_the_provider(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    checked: Order,
    decide: Callable[[], Awaitable[Order]],
) -> Order:
    """The order `decide` makes (again) once the provider has been asked for the payment of
    `checked`, its first decision, with nothing held; its payment is the one the provider made
    if it still waits for one."""
    charge = Charge.of(checked)
    await _end_the_check(session)
    created = await ask_for_payment(provider, charge)
    order = await decide()
    if order.status != OrderStatus.PENDING_PAYMENT:
        # Refused or parked now: the payment made at the provider stays there unpaid, as its
        # client secret is never shown to the buyer (a parked order approved later asks again
        # under the same key and is given the same payment).
        return order
    # The order's id follows from its quote and its price is sealed in it: decided again, the
    # order is the one the provider was asked to charge.
    assert Charge.of(order) == charge
    await book_payment(session, settings, provider, order, created)
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
    if approve and provider.asks_a_third_party:
        await _commit_what_came_before(session)
    decide = partial(orders.review_order, session, principal, order_id, approve, reason)
    order = await decide()
    if not approve:
        return order
    if order.payment_provider == accounts.ACCOUNT:
        await pay_from_balance(session, settings, order, actor=principal.actor)
    elif not provider.asks_a_third_party:
        await start_payment(session, settings, provider, order)
    else:
        # Approved again under the order's lock (another operator may have decided meanwhile:
        # then this answers 409, and the payment made stays unshown and unpaid at the provider).
        order = await _decided_again_around_the_provider(session, settings, provider, order, decide)
    return order
