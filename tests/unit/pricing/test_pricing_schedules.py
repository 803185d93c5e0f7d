"""Unit-by-unit comparison of two rising schedules, in the cases its proof distinguishes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import PricingError, Tier, price_at
from pricing.schedules import first_unit_above

ONE = Decimal(1)


def rising(price: str, size: int, step: str, first_unit: int = 1) -> list[Tier]:
    head = [Tier(first_unit=1, last_unit=first_unit - 1, unit_price=Decimal(0))] if first_unit > 1 else []
    return [
        *head,
        Tier(first_unit=first_unit, unit_price=Decimal(price), band_size=size, band_step=Decimal(step)),
    ]


def brute(a: list[Tier], b: list[Tier], horizon: int) -> int | None:
    return next((u for u in range(1, horizon) if price_at(a, u) > price_at(b, u)), None)


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        (rising("0", 2, "1"), rising("5", 3, "1")),  # upper rises faster: overtakes near unit 33
        (rising("0", 3, "1"), rising("5", 2, "1")),  # upper slower: never
        (rising("0", 2, "2"), rising("1", 4, "4")),  # equal rates: above at unit 3, in phase
        (rising("0", 2, "2"), rising("2", 4, "4")),  # equal rates: touches, never above
        (rising("0", 2, "2", first_unit=7), rising("0", 4, "4", first_unit=3)),  # shifted phases
    ],
)
def test_rising_tails_agree_with_brute_force(upper: list[Tier], lower: list[Tier]) -> None:
    assert first_unit_above(upper, ONE, lower, ONE) == brute(upper, lower, 5000)


def test_the_cases_above_are_the_ones_they_claim() -> None:
    assert first_unit_above(rising("0", 2, "1"), ONE, rising("5", 3, "1"), ONE) == 33
    assert first_unit_above(rising("0", 2, "2"), ONE, rising("1", 4, "4"), ONE) == 3
    assert first_unit_above(rising("0", 2, "2"), ONE, rising("2", 4, "4"), ONE) is None


def test_a_slow_overtake_is_still_reported() -> None:
    upper, lower = rising("0", 1, "1.000001"), rising("1000", 1, "1")
    found = first_unit_above(upper, ONE, lower, ONE)
    assert found is not None and price_at(upper, found) > price_at(lower, found)


def test_schedules_too_far_apart_to_settle_are_refused_not_guessed() -> None:
    upper, lower = rising("0", 1, "0.999999"), rising("1", 1, "1")
    with pytest.raises(PricingError, match="too far apart"):
        first_unit_above(upper, ONE, lower, ONE)
