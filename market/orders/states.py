"""The states of quotes and orders, and the only transitions between them.

An order's status changes only through `market.orders.service.move`, which checks this table
and writes the audit entry; payments, delivery and settlement ask that service, they never
assign a status themselves.
"""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class QuoteStatus(StrEnum):
    OPEN = "open"
    ORDERED = "ordered"
    EXPIRED = "expired"


QUOTES = StateMachine(
    "quote",
    {
        QuoteStatus.OPEN: {QuoteStatus.ORDERED, QuoteStatus.EXPIRED},
    },
)


class OrderStatus(StrEnum):
    NEEDS_REVIEW = "needs_review"  # the trade rules asked for an operator (Art. 63)
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"  # the money arrived; the licence is being issued
    DELIVERED = "delivered"  # the licence is issued
    COMPLETED = "completed"  # the buyer accepted delivery
    DISPUTED = "disputed"
    REFUNDED = "refunded"  # all of the money went back
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # an operator refused it on review


ORDERS = StateMachine(
    "order",
    {
        OrderStatus.NEEDS_REVIEW: {OrderStatus.PENDING_PAYMENT, OrderStatus.REJECTED, OrderStatus.CANCELLED},
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
        OrderStatus.PAID: {OrderStatus.DELIVERED, OrderStatus.DISPUTED, OrderStatus.REFUNDED},
        OrderStatus.DELIVERED: {OrderStatus.COMPLETED, OrderStatus.DISPUTED, OrderStatus.REFUNDED},
        OrderStatus.COMPLETED: {OrderStatus.DISPUTED, OrderStatus.REFUNDED},
        OrderStatus.DISPUTED: {OrderStatus.REFUNDED},
    },
)

# Orders that hold a unit of stock (and an exclusive licence's one sale) until they end.
HOLDS_STOCK = frozenset(
    {
        OrderStatus.NEEDS_REVIEW,
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
        OrderStatus.DISPUTED,
    }
)
# Orders whose money the exchange received and still holds (some of it, after partial refunds).
SETTLED = frozenset({OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.DISPUTED})
REFUNDABLE = SETTLED
# Orders a buyer paid for at some point: its history with a seller (the new-customer offer).
EVER_PAID = SETTLED | {OrderStatus.REFUNDED}
