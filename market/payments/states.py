"""The states of payments, refunds, payouts, payout transfers and disputes, each with the only
transitions between them. A status changes only through the function of this feature that
checks its table and writes the audit entry (`service.move_payment`, `escrow.move_payout`, ...).
"""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused the charge; the buyer may try again
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


PAYMENTS = StateMachine(
    "payment",
    {
        PaymentStatus.REQUIRES_PAYMENT: {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED},
        PaymentStatus.FAILED: {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED},
        PaymentStatus.SUCCEEDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
        PaymentStatus.PARTIALLY_REFUNDED: {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED},
    },
)
# A payment whose money arrived: what a refund may draw on.
CAPTURED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED})


class RefundStatus(StrEnum):
    # Decided and booked as owed to the buyer; the provider has not confirmed it yet (not asked,
    # unreachable, or its refund is still pending). Retried with the same key until it answers.
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"  # the money went back
    FAILED = "failed"  # the provider refused: nothing went back, the amount is released


REFUNDS = StateMachine(
    "refund",
    {RefundStatus.REQUESTED: {RefundStatus.SUCCEEDED, RefundStatus.FAILED}},
)


class PayoutStatus(StrEnum):
    """The seller's proceeds of one paid order, held in escrow until the trade is safe."""

    HELD = "held"  # the acceptance window runs; the buyer may still dispute
    FROZEN = "frozen"  # a dispute is open: nothing moves until it is resolved
    DUE = "due"  # accepted, or the window passed undisputed: owed to the seller now
    PAID_OUT = "paid_out"  # transferred to the seller (a later refund is recovered from them)
    CANCELLED = "cancelled"  # nothing is left for the seller: everything was refunded


PAYOUTS = StateMachine(
    "payout",
    {
        PayoutStatus.HELD: {PayoutStatus.DUE, PayoutStatus.FROZEN, PayoutStatus.CANCELLED},
        PayoutStatus.FROZEN: {PayoutStatus.DUE, PayoutStatus.CANCELLED},
        # A card dispute may arrive after the payout fell due (not after it was paid out).
        PayoutStatus.DUE: {PayoutStatus.PAID_OUT, PayoutStatus.FROZEN, PayoutStatus.CANCELLED},
    },
)
# Where the proceeds of a payout in each state sit in the ledger (see `ledger`).
HELD_BACK = frozenset({PayoutStatus.HELD, PayoutStatus.FROZEN})


class TransferStatus(StrEnum):
    """One transfer of money to a seller, paying its due payouts."""

    REQUESTED = "requested"  # recorded; the payout provider has not confirmed it yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused: the payouts are due again


TRANSFERS = StateMachine(
    "transfer",
    {TransferStatus.REQUESTED: {TransferStatus.SUCCEEDED, TransferStatus.FAILED}},
)


class DisputeReason(StrEnum):
    NOT_DELIVERED = "not_delivered"
    NOT_AS_DESCRIBED = "not_as_described"
    RIGHTS_PROBLEM = "rights_problem"  # the seller's rights failed (also opened by the exchange)
    PAYMENT_DISPUTED = "payment_disputed"  # a card dispute for another reason (from Stripe)


class DisputeStatus(StrEnum):
    OPEN = "open"
    REFUNDED = "refunded"  # resolved for the buyer: everything left was refunded
    PARTIALLY_REFUNDED = "partially_refunded"  # resolved with a partial refund
    REJECTED = "rejected"  # resolved for the seller: the trade stands


DISPUTES = StateMachine(
    "dispute",
    {
        DisputeStatus.OPEN: {
            DisputeStatus.REFUNDED,
            DisputeStatus.PARTIALLY_REFUNDED,
            DisputeStatus.REJECTED,
        },
    },
)
