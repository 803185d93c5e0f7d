"""The shipped 国办函〔2020〕109号 tariffs under hypothesis (issue 20): a month's requests cost the
same bought at once or in any split into consecutive orders; no order is ever above the
ceiling for its slice of the window; free purposes pay 0 and leave the tiers untouched."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import GOV_INFO_FEE_PER_PAGE, GOV_INFO_FEE_PER_REQUEST, graduated_total, quote, tariff_plan
from pricing.money import Money
from tests.unit.pricing.pricing_factories import facts

REQUESTS = tariff_plan(GOV_INFO_FEE_PER_REQUEST)
PAGES = tariff_plan(GOV_INFO_FEE_PER_PAGE)


def parts_of(data: st.DataObject, total: int) -> list[int]:
    cuts = sorted(data.draw(st.sets(st.integers(1, total - 1), max_size=6)) if total > 1 else set())
    return [b - a for a, b in pairwise([0, *cuts, total])]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.data())
def test_requests_in_a_month_cost_the_same_in_any_split(n: int, data: st.DataObject) -> None:
    at_once = quote(REQUESTS, GOV_INFO_FEE_PER_REQUEST, facts(n)).total_minor
    assert at_once == Money(graduated_total(GOV_INFO_FEE_PER_REQUEST.tiers, n), "CNY").minor_units
    prior, paid = 0, 0
    for part in parts_of(data, n):
        priced = quote(REQUESTS, GOV_INFO_FEE_PER_REQUEST, facts(part, prior_units=prior))
        low, high = GOV_INFO_FEE_PER_REQUEST.slice_bounds_minor(prior, part)
        assert low <= priced.total_minor <= high  # never above the ceiling for these units
        assert priced.window is not None and priced.window.prior_units == prior
        paid += priced.total_minor
        prior += part
    assert paid == at_once


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 400), st.integers(0, 400), st.sampled_from(["public_governance", "public_welfare"]))
def test_free_purposes_pay_nothing_wherever_the_buyer_stands(n: int, prior: int, purpose: str) -> None:
    for plan, entry in ((REQUESTS, GOV_INFO_FEE_PER_REQUEST), (PAGES, GOV_INFO_FEE_PER_PAGE)):
        free = quote(plan, entry, facts(n, purpose=purpose, prior_units=prior))
        assert free.total_minor == 0
        assert free.window is None or free.window.units == 0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 1000), st.integers(0, 1000))
def test_pages_restart_with_every_application(n: int, prior: int) -> None:
    alone = quote(PAGES, GOV_INFO_FEE_PER_PAGE, facts(n)).total_minor
    assert quote(PAGES, GOV_INFO_FEE_PER_PAGE, facts(n, prior_units=prior)).total_minor == alone
