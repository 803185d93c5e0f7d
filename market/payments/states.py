"""The states of a payment and the only transitions between them."""

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
