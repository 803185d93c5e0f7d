"""Revenue caps (发改价格〔2025〕65号): thresholds crossed, excess deducted next year."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pricing import (
    CapThreshold,
    RevenueCap,
    close_year,
    next_year_cap,
    revenue_position,
    threshold_crossings,
)

EARLY, REACHED = CapThreshold.EARLY_WARNING, CapThreshold.REACHED


def cap(**over: Any) -> RevenueCap:
    data: dict[str, Any] = {
        "product_ref": "product-1",
        "year": 2026,
        "operating_cost_minor": 700_000,
        "permitted_profit_minor": 200_000,
        "tax_minor": 100_000,
    }
    data.update(over)
    return RevenueCap.model_validate(data)


def test_the_cap_is_cost_plus_profit_plus_tax_less_any_deduction() -> None:
    assert cap().approved_minor == cap().permitted_minor == 1_000_000
    assert cap(deduction_minor=150_000).permitted_minor == 850_000
    assert cap(deduction_minor=5_000_000).permitted_minor == 0
    assert str(cap().permitted) == "10000.00 CNY" and cap().legal_basis == "发改价格〔2025〕65号"


@pytest.mark.parametrize(
    ("before", "amount", "crossed"),
    [
        (0, 799_999, ()),
        (0, 800_000, (EARLY,)),
        (799_999, 1, (EARLY,)),
        (800_000, 199_999, ()),
        (999_999, 1, (REACHED,)),
        (0, 1_200_000, (EARLY, REACHED)),
        (1_000_000, 5, ()),
        (900_000, -200_000, ()),  # a refund crosses nothing upward
    ],
)
def test_threshold_crossings_report_what_a_new_amount_reaches_first(
    before: int, amount: int, crossed: tuple[CapThreshold, ...]
) -> None:
    assert threshold_crossings(cap(), before, amount) == crossed


def test_a_zero_cap_is_crossed_by_the_first_fen() -> None:
    nothing = cap(deduction_minor=1_000_000)
    assert threshold_crossings(nothing, 0, 0) == ()
    assert threshold_crossings(nothing, 0, 1) == (EARLY, REACHED)


def test_the_position_shows_remaining_and_excess() -> None:
    position = revenue_position(cap(), 850_000)
    assert (position.remaining_minor, position.excess_minor, position.reached) == (150_000, 0, (EARLY,))
    over = revenue_position(cap(), 1_100_000)
    assert (over.remaining_minor, over.excess_minor, over.reached) == (0, 100_000, (EARLY, REACHED))


def test_excess_is_deducted_next_year_and_never_forgiven() -> None:
    closed = close_year(cap(), 1_250_000)
    assert (closed.excess_minor, closed.carried_forward_minor) == (250_000, 250_000)
    nxt = next_year_cap(
        closed, operating_cost_minor=700_000, permitted_profit_minor=200_000, tax_minor=100_000
    )
    assert (nxt.year, nxt.deduction_minor, nxt.permitted_minor) == (2027, 250_000, 750_000)
    # A deduction larger than the next approval leaves that year at 0 and carries the rest on.
    small = next_year_cap(
        close_year(cap(), 3_000_000), operating_cost_minor=500_000, permitted_profit_minor=0, tax_minor=0
    )
    assert small.permitted_minor == 0
    assert close_year(small, 0).carried_forward_minor == 2_000_000 - 500_000
    assert close_year(small, 10).carried_forward_minor == 2_000_000 - 500_000 + 10
    assert close_year(cap(), 999_999).carried_forward_minor == 0


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"tax_minor": -1}, "tax_minor"),
        ({"deduction_minor": -5}, "deduction_minor"),
        ({"currency": "XYZ"}, "currency"),
        ({"year": 1999}, "year"),
        ({"operating_cost_minor": "1.5"}, "operating_cost_minor"),
    ],
)
def test_bad_caps_are_refused_naming_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        cap(**over)
