"""Accumulation windows in the Beijing calendar, and quotes that price marginally within them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from pricing import AccumulationWindow, BuyerFacts, PricingError, WindowUsage, quote, window_span
from tests.unit.pricing.pricing_factories import ceiling_entry, facts, plan

MONTH = AccumulationWindow.COUNTERPARTY_MONTH
YEAR = AccumulationWindow.COUNTERPARTY_YEAR
BEIJING = timezone(timedelta(hours=8))


def test_months_and_years_follow_the_beijing_calendar() -> None:
    last_june_minute = window_span(MONTH, datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC))
    first_july_moment = window_span(MONTH, datetime(2026, 6, 30, 16, 0, tzinfo=UTC))
    assert last_june_minute is not None and first_july_moment is not None
    assert last_june_minute.key == "month:2026-06" and first_july_moment.key == "month:2026-07"
    assert last_june_minute.starts_at == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert last_june_minute.ends_at == first_july_moment.starts_at
    december = window_span(MONTH, datetime(2026, 12, 15, tzinfo=BEIJING))
    assert december is not None and december.ends_at == datetime(2027, 1, 1, tzinfo=BEIJING)
    new_year = window_span(YEAR, datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert new_year is not None and new_year.key == "year:2027"
    assert new_year.contains(datetime(2027, 12, 31, 23, 59, tzinfo=BEIJING))
    assert not new_year.contains(datetime(2028, 1, 1, tzinfo=BEIJING))
    assert new_year.describe() == "calendar year 2027 (Beijing time)"


def test_the_key_is_stable_whatever_the_zone_of_the_moment() -> None:
    moment = datetime(2026, 3, 1, 0, 30, tzinfo=BEIJING)
    assert window_span(MONTH, moment) == window_span(MONTH, moment.astimezone(UTC))
    assert window_span(MONTH, moment.astimezone(UTC)).key == "month:2026-03"  # type: ignore[union-attr]


def test_per_order_has_no_window_and_naive_moments_are_refused() -> None:
    assert window_span(AccumulationWindow.PER_ORDER, datetime(2026, 1, 1, tzinfo=UTC)) is None
    with pytest.raises(ValueError, match="aware"):
        window_span(MONTH, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="per-order"):
        WindowUsage(
            window=AccumulationWindow.PER_ORDER,
            key="x",
            starts_at=datetime(2026, 1, 1, tzinfo=UTC),
            ends_at=datetime(2026, 2, 1, tzinfo=UTC),
            prior_units=0,
            units=1,
        )


TIERS = [
    {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
    {"first_unit": 11, "unit_price": "100"},
]


def test_a_windowed_plan_prices_units_after_the_prior_ones_and_says_so() -> None:
    p = plan(kind="tiered", style="graduated", tiers=TIERS, accumulation="counterparty_month")
    q = quote(p, None, facts(10, prior_units=10))
    assert q.total_minor == 100_000
    assert [line.description for line in q.lines] == ["units 11–20 this month: 10 × 100.00"]
    assert q.lines[0].description_zh == "本月第11–20单位：10 × 100.00"
    assert q.window is not None and (q.window.prior_units, q.window.units, q.window.units_after) == (
        10,
        10,
        20,
    )
    assert q.window.key == "month:2026-06"


def test_per_order_plans_ignore_prior_units() -> None:
    p = plan(kind="tiered", style="graduated", tiers=TIERS)
    assert quote(p, None, facts(10, prior_units=500)).total_minor == 0
    assert quote(p, None, facts(10, prior_units=500)).window is None


def test_a_yearly_metered_plan_charges_its_base_fee_and_quota_once_per_year() -> None:
    p = plan(
        kind="metered",
        base_fee="100",
        included_units=1000,
        overage_unit_price="0.05",
        unit="call",
        accumulation="counterparty_year",
    )
    first = quote(p, None, facts(600))
    second = quote(p, None, facts(600, prior_units=600))
    assert first.total_minor == 10_000 and second.total_minor == 200 * 5
    assert [line.code for line in second.lines] == ["included", "overage"]
    assert second.lines[1].description == "calls 1001–1200 this year: 200 × 0.05"
    assert quote(p, None, facts(1200)).total_minor == first.total_minor + second.total_minor


def test_an_entrys_window_governs_the_plan_and_a_different_declared_one_is_refused() -> None:
    monthly = ceiling_entry(
        unit="per_request", accumulation="counterparty_month", tiers=[{"first_unit": 1, "unit_price": "3"}]
    )
    follows = plan(kind="fixed", unit_price="2")
    q = quote(follows, monthly, facts(5, prior_units=7))
    assert (
        q.window is not None
        and q.unit is not None
        and q.lines[0].description.startswith("requests 8–12 this month")
    )
    with pytest.raises(PricingError) as refused:
        quote(plan(kind="fixed", unit_price="2", accumulation="per_order"), monthly, facts(5))
    assert refused.value.field == "price_plan.accumulation"
    with pytest.raises(PricingError) as refused:
        quote(plan(kind="fixed", unit_price="2", unit="page"), monthly, facts(5))
    assert refused.value.field == "price_plan.unit"
    with pytest.raises(PricingError) as refused:
        quote(plan(kind="one_off", price="2"), monthly, facts(5))
    assert refused.value.field == "price_plan.kind"


def test_the_ceiling_applies_to_the_units_of_the_window_not_to_the_order_alone() -> None:
    # Ceiling: 10 free per month, then 1.00. A seller charging 1.00 from unit 1 is capped to
    # what units 6–15 of the month may cost: 5 free + 5 x 1.00.
    monthly = ceiling_entry(
        accumulation="counterparty_month",
        tiers=[{"first_unit": 1, "last_unit": 10, "unit_price": "0"}, {"first_unit": 11, "unit_price": "1"}],
    )
    q = quote(plan(kind="fixed", unit_price="1"), monthly, facts(10, prior_units=5))
    assert q.subtotal_minor == 1000 and q.total_minor == 500
    assert q.lines[-1].code == "guided_cap"


def test_buyer_facts_refuse_negative_prior_units() -> None:
    with pytest.raises(ValidationError, match="prior_units"):
        BuyerFacts(purpose="x", quantity=1, prior_units=-1, at=datetime(2026, 1, 1, tzinfo=UTC))
