"""The settlement's pure parts: the ledger's movements and the state tables of payments,
refunds, payouts, transfers, disputes, orders and licences."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.common.states import InvalidTransition, StateMachine
from market.delivery.states import LICENCES, LicenceStatus
from market.orders.states import ORDERS, OrderStatus
from market.payments import ledger
from market.payments.states import (
    DISPUTES,
    PAYMENTS,
    PAYOUTS,
    REFUNDS,
    TRANSFERS,
    DisputeStatus,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
    TransferStatus,
)


def reachable(machine: StateMachine[Any], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in machine.transitions.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize(
    ("machine", "states", "start", "terminal"),
    [
        (ORDERS, OrderStatus, "needs_review", {"refunded", "cancelled", "rejected", "refused", "terminated"}),
        (PAYMENTS, PaymentStatus, "requires_payment", {"refunded"}),
        (REFUNDS, RefundStatus, "requested", {"succeeded", "failed"}),
        (PAYOUTS, PayoutStatus, "held", {"paid_out", "cancelled"}),
        (TRANSFERS, TransferStatus, "requested", {"succeeded", "failed"}),
        (DISPUTES, DisputeStatus, "open", {"refunded", "partially_refunded", "rejected"}),
        (LICENCES, LicenceStatus, "active", {"revoked"}),
    ],
)
def test_every_state_is_reachable_and_only_the_terminal_ones_have_no_way_out(
    machine: StateMachine[Any],
    states: type[StrEnum],
    start: str,
    terminal: set[str],
) -> None:
    names = {str(s) for s in states}
    assert reachable(machine, start) == names
    assert {s for s in names if not machine.transitions.get(s)} == terminal
    assert set(machine.transitions) <= names
    assert all(targets <= names for targets in machine.transitions.values())


@pytest.mark.parametrize(
    ("machine", "current", "target"),
    [
        (ORDERS, "refused", "paid"),  # a refused trade never resumes
        (ORDERS, "refunded", "completed"),
        (ORDERS, "delivered", "pending_payment"),  # money arrived cannot un-arrive
        (ORDERS, "completed", "delivered"),  # only a dispute's resolution goes back
        (ORDERS, "pending_payment", "delivered"),  # no licence without the money
        (PAYOUTS, "held", "paid_out"),  # never paid out before it is due
        (PAYOUTS, "frozen", "paid_out"),  # nor while disputed
        (PAYOUTS, "paid_out", "cancelled"),  # money sent is recovered, not cancelled
        (DISPUTES, "rejected", "open"),
        (REFUNDS, "failed", "succeeded"),
        (PAYMENTS, "refunded", "succeeded"),
        (LICENCES, "revoked", "active"),
    ],
)
def test_transitions_not_in_the_table_are_refused_with_a_409(
    machine: StateMachine[Any], current: str, target: str
) -> None:
    assert not machine.can(current, target)
    with pytest.raises(InvalidTransition) as refused:
        machine.check(current, target)
    assert refused.value.status == 409 and refused.value.code == f"invalid-{machine.entity}-state"


@given(
    total=st.integers(min_value=1, max_value=10**9),
    rate=st.integers(min_value=0, max_value=30),
    cuts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6),
)
def test_refunds_give_back_the_whole_commission_exactly_when_everything_is_refunded(
    total: int, rate: int, cuts: list[int]
) -> None:
    commission = total * rate // 100
    left, refunded, lines = commission, 0, ledger.charge_lines(total, commission)
    # Split the price into refunds of the given sizes, the last one taking what remains.
    amounts = []
    for cut in cuts:
        if refunded + cut >= total:
            break
        amounts.append(cut)
        refunded += cut
    amounts.append(total - refunded)
    refunded = 0
    for amount in amounts:
        back = ledger.commission_share(
            amount, total_minor=total, commission=commission, refunded_before=refunded, commission_left=left
        )
        assert 0 <= back <= left
        lines += ledger.refund_owed_lines(amount, commission_back=back, seller_account=ledger.SELLER_HELD)
        lines += ledger.refund_paid_lines(amount)
        left, refunded = left - back, refunded + amount
    balance = {a: sum(x.amount_minor for x in lines if x.account == a) for a in {x.account for x in lines}}
    assert sum(x.amount_minor for x in lines) == 0
    assert all(v == 0 for v in balance.values()), balance
