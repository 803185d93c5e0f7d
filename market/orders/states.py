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
    DELIVERED = "delivered"  # the licence is issued; the proceeds are held in escrow
    COMPLETED = "completed"  # the buyer accepted delivery
    DISPUTED = "disputed"  # a dispute is open; the seller's payout is frozen
    REFUNDED = "refunded"  # all of the money went back
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # an operator refused it on review
    # The money arrived but the trade rules, run again at payment, now refuse the trade (the
    # buyer blacklisted, the seller's chain broken, ...), or no licence could be issued: no
    # licence, the payment is refunded, the decision's reasons are on the order.
    REFUSED = "refused"
    # The licence ended early: the rights under it were revoked after the sale, or a partial
    # refund ended it as its terms say. The unused part was refunded (or is disputed).
    TERMINATED = "terminated"


ORDERS = StateMachine(
    "order",
    {
        OrderStatus.NEEDS_REVIEW: {OrderStatus.PENDING_PAYMENT, OrderStatus.REJECTED, OrderStatus.CANCELLED},
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REFUSED},
        OrderStatus.PAID: {
            OrderStatus.DELIVERED,
            OrderStatus.DISPUTED,
            OrderStatus.REFUNDED,
            OrderStatus.REFUSED,
        },
        OrderStatus.DELIVERED: {
            OrderStatus.COMPLETED,
            OrderStatus.DISPUTED,
            OrderStatus.REFUNDED,
            OrderStatus.TERMINATED,
        },
        OrderStatus.COMPLETED: {OrderStatus.DISPUTED, OrderStatus.REFUNDED, OrderStatus.TERMINATED},
        # A resolved dispute returns the trade to where it stood, unless it ended it.
        OrderStatus.DISPUTED: {
            OrderStatus.DELIVERED,
            OrderStatus.COMPLETED,
            OrderStatus.REFUNDED,
            OrderStatus.TERMINATED,
        },
    },
)

# Orders that hold a unit of stock until they end (released on cancellation, rejection and
# refusal; a delivered sale keeps its unit even if refunded later).
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
# What an operator may still refund: a live trade, or one that ended with money left to return
# (a refund the provider refused is retried this way).
REFUNDABLE = SETTLED | {OrderStatus.REFUSED, OrderStatus.TERMINATED}
# Orders a buyer paid for at some point: its history with a seller (the new-customer offer).
EVER_PAID = SETTLED | {OrderStatus.REFUNDED, OrderStatus.TERMINATED}
# Orders whose claims on their resources end with them (exclusivity is free again).
ENDS_CLAIMS = frozenset(
    {
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.REFUSED,
        OrderStatus.REFUNDED,
        OrderStatus.TERMINATED,
    }
)
# Orders whose units leave their buyer's accumulation window: ended unpaid, or all of the
# money went back ("paid, unrefunded units", issue 20). A partial refund keeps them.
RELEASES_WINDOW_UNITS = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.REFUSED, OrderStatus.REFUNDED}
)
