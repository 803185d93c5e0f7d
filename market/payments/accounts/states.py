"""The states of prepaid accounts and of top-ups, with the only transitions between them."""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class AccountStatus(StrEnum):
    OPEN = "open"  # an operator enabled prepaid buying for this buyer in this currency
    SUSPENDED = "suspended"  # no new debits; top-ups and refunds still arrive


ACCOUNTS = StateMachine(
    "account",
    {AccountStatus.OPEN: {AccountStatus.SUSPENDED}, AccountStatus.SUSPENDED: {AccountStatus.OPEN}},
)


class TopUpStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the transfer, or for the card payment
    SUCCEEDED = "succeeded"  # credited to the balance
    FAILED = "failed"  # the card payment failed; nothing was credited


TOP_UPS = StateMachine(
    "top_up",
    {
        TopUpStatus.REQUESTED: {TopUpStatus.SUCCEEDED, TopUpStatus.FAILED},
        TopUpStatus.FAILED: {TopUpStatus.SUCCEEDED, TopUpStatus.FAILED},
    },
)
