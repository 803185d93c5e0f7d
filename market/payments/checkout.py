"""Buying: an order from a quote, and its payment started at once (or after an operator's
review). The order's own rules are the orders feature's; this adds the money."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.common.clock import now
from market.orders import service as orders
from market.orders.models import Order
from market.orders.quotes import load_payable_quote
from market.orders.states import OrderStatus
from market.payments.arrival import start_payment
from market.payments.provider import PaymentProvider
from market.settings import Settings


async def place_order(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    principal: Principal,
    quote_id: uuid.UUID,
) -> Order:
    quote = await load_payable_quote(session, settings, quote_id, principal.participant_id, now())
    order = await orders.create_order(session, settings, principal, quote, payment_provider=provider.name)
    if order.status == OrderStatus.PENDING_PAYMENT:
        await start_payment(session, settings, provider, order)
    return order


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
    """An operator's review of a parked order; approved, its payment starts now."""
    order = await orders.review_order(session, principal, order_id, approve, reason)
    if approve:
        await start_payment(session, settings, provider, order)
    return order
