"""Money is exact: Decimal arithmetic, one half-up rounding to the fen, no floats, no mixing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import (
    Money,
    PricingError,
    allocate,
    round_half_up_to_minor,
    round_parts,
    sum_money,
)


def test_constructors_and_minor_units() -> None:
    assert Money.of("12.34", "CNY").minor_units == 1234
    assert Money.from_minor(1234, "CNY") == Money.of("12.34", "CNY")
    assert Money.from_minor(12345, "CNY").amount == Decimal("123.45")
    assert Money.of(5, "HKD").minor_units == 500


def test_one_rounding_rule_half_up_to_the_fen() -> None:
    assert round_half_up_to_minor(Decimal("1.005"), "CNY") == Decimal("1.01")
    assert round_half_up_to_minor(Decimal("1.004"), "CNY") == Decimal("1.00")
    assert round_half_up_to_minor(Decimal("-1.005"), "CNY") == Decimal("-1.01")
    assert Money.of("0.10", "CNY") + Money.of("0.20", "CNY") == Money.of("0.30", "CNY")


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan")])
def test_floats_are_refused_everywhere(bad: float) -> None:
    with pytest.raises(PricingError, match="float"):
        Money.of(bad, "CNY")
    with pytest.raises(PricingError, match="float"):
        Money(bad, "CNY")  # type: ignore[arg-type]
    with pytest.raises(PricingError, match="float"):
        Money.of("1", "CNY") * bad  # type: ignore[operator]
    with pytest.raises(PricingError, match="float"):
        allocate(Money.of("1", "CNY"), [bad, 1])  # type: ignore[list-item]
    with pytest.raises(PricingError, match="float"):
        round_half_up_to_minor(bad, "CNY")  # type: ignore[arg-type]


def test_currencies_are_checked_and_never_mixed() -> None:
    with pytest.raises(PricingError, match="currency"):
        Money.of("1", "XYZ")
    with pytest.raises(PricingError, match="CNY with USD"):
        Money.of("1", "CNY") + Money.of("1", "USD")
    with pytest.raises(PricingError):
        sum_money([Money.of("1", "CNY"), Money.of("1", "EUR")], "CNY")
    with pytest.raises(TypeError):
        Money.of("1", "CNY") + 1  # type: ignore[operator]
    assert sum_money([], "EUR") == Money.zero("EUR")


def test_allocate_splits_by_largest_remainder() -> None:
    assert [m.minor_units for m in allocate(Money.of("1.00", "CNY"), [1, 1, 1])] == [34, 33, 33]
    assert [m.minor_units for m in allocate(Money.of("0.05", "CNY"), [3, 7])] == [2, 3]
    assert [m.minor_units for m in allocate(Money.of("-1.00", "CNY"), [1, 2])] == [-33, -67]
    with pytest.raises(PricingError, match="weights"):
        allocate(Money.of("1", "CNY"), [0, 0])


def test_round_parts_rounds_the_whole_once() -> None:
    # Each 0.004 alone rounds to 0.00, but together they owe a fen.
    assert round_parts([Decimal("0.004")] * 3, "CNY") == [1, 0, 0]
    assert round_parts([Decimal("1.005"), Decimal("2")], "CNY") == [101, 200]
    assert round_parts([], "CNY") == []
