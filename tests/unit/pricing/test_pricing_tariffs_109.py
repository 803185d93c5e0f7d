"""国办函〔2020〕109号 shipped as guided entries: the published examples, across several orders
by one applicant in a month, restarting next month; per page, each application on its own."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from pricing import (
    GOV_INFO_FEE_PER_PAGE,
    GOV_INFO_FEE_PER_REQUEST,
    BuyerFacts,
    GuidedPriceEntry,
    Quote,
    effective_window,
    quote,
    tariff_plan,
    validate_plan_against_entry,
    window_span,
)
from tests.unit.pricing.pricing_factories import plan

JUNE = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
LATE_JUNE_BEIJING = datetime(2026, 6, 30, 15, 59, tzinfo=UTC)  # 23:59 on 30 June in Beijing
JULY_BEIJING = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 00:00 on 1 July in Beijing


class Ledger:
    """What the service keeps: paid units per (applicant, window key), as INTEGRATION.md says."""

    def __init__(self) -> None:
        self.units: Counter[tuple[str, str]] = Counter()

    def buy(self, entry: GuidedPriceEntry, buyer: str, quantity: int, at: datetime) -> Quote:
        span = window_span(effective_window(tariff_plan(entry), entry), at)
        prior = self.units[(buyer, span.key)] if span else 0
        facts = BuyerFacts(purpose="commercial_analytics", quantity=quantity, prior_units=prior, at=at)
        priced = quote(tariff_plan(entry), entry, facts)
        if priced.window is not None:
            assert priced.window.prior_units == prior
            self.units[(buyer, priced.window.key)] += priced.window.units
        return priced


def yuan(q: Quote) -> int:
    assert q.total_minor % 100 == 0
    return q.total_minor // 100


@pytest.mark.parametrize(
    ("requests", "fee"),
    [
        (1, 0),
        (10, 0),
        (11, 100),
        (30, 2000),
        (31, 2200),
        (40, 4000),  # 20 x 100 + 10 x 200
        (41, 4300),
        (50, 7000),  # + 10 x 300
        (60, 11000),  # + 10 x 400
        (100, 37000),
    ],
)
def test_per_request_published_tiers_in_one_order(requests: int, fee: int) -> None:
    assert GOV_INFO_FEE_PER_REQUEST.reference_minor(0, requests) == fee * 100
    assert yuan(Ledger().buy(GOV_INFO_FEE_PER_REQUEST, "alice", requests, JUNE)) == fee


def test_per_request_accumulates_over_an_applicants_orders_in_a_month() -> None:
    ledger = Ledger()
    fees = [yuan(ledger.buy(GOV_INFO_FEE_PER_REQUEST, "alice", n, JUNE)) for n in (6, 4, 10, 15, 15)]
    # 1–6 free, 7–10 free, 11–20 at 100, 21–30 at 100 + 31–35 at 200, 36–40 at 200 + 41–50 at 300
    assert fees == [0, 0, 1000, 1000 + 1000, 1000 + 3000]
    assert sum(fees) == 7000 == GOV_INFO_FEE_PER_REQUEST.reference_minor(0, 50) // 100
    third = ledger.buy(GOV_INFO_FEE_PER_REQUEST, "alice", 10, LATE_JUNE_BEIJING)
    assert [line.description for line in third.lines] == ["requests 51–60 this month: 10 × 400.00"]
    assert third.lines[0].description_zh == "本月第51–60件：10 × 400.00"
    assert "50 requests already counted in calendar month 2026-06 (Beijing time)" in third.lines[0].reason
    assert third.window is not None and third.window.key == "month:2026-06"


def test_per_request_counts_restart_next_month_and_per_applicant() -> None:
    ledger = Ledger()
    assert yuan(ledger.buy(GOV_INFO_FEE_PER_REQUEST, "alice", 30, JUNE)) == 2000
    assert yuan(ledger.buy(GOV_INFO_FEE_PER_REQUEST, "bob", 10, JUNE)) == 0  # bob has his own 10 free
    july = ledger.buy(GOV_INFO_FEE_PER_REQUEST, "alice", 12, JULY_BEIJING)  # 1 July in Beijing
    assert july.window is not None and july.window.key == "month:2026-07" and july.window.prior_units == 0
    assert yuan(july) == 200
    assert [line.description for line in july.lines] == [
        "requests 1–10 this month: 10 × 0.00",
        "requests 11–12 this month: 2 × 100.00",
    ]


@pytest.mark.parametrize(
    ("pages", "fee"), [(30, 0), (31, 10), (100, 700), (101, 720), (200, 2700), (250, 4700)]
)
def test_per_page_published_tiers(pages: int, fee: int) -> None:
    assert yuan(Ledger().buy(GOV_INFO_FEE_PER_PAGE, "alice", pages, JUNE)) == fee


def test_per_page_counts_each_application_on_its_own() -> None:
    # Art. 5 counts the pages of one application: a second application starts at page 1 again.
    ledger = Ledger()
    first = ledger.buy(GOV_INFO_FEE_PER_PAGE, "alice", 120, JUNE)
    second = ledger.buy(GOV_INFO_FEE_PER_PAGE, "alice", 120, JUNE)
    assert yuan(first) == yuan(second) == 700 + 20 * 20
    assert first.window is None and first.unit is not None and first.unit.zh == "页"
    assert [line.description for line in first.lines][-1] == "pages 101–200 at 20.00"


def test_exempt_purposes_pay_nothing_and_leave_the_applicants_tiers_untouched() -> None:
    facts = BuyerFacts(purpose="public_welfare", quantity=50, prior_units=20, at=JUNE)
    free = quote(tariff_plan(GOV_INFO_FEE_PER_REQUEST), GOV_INFO_FEE_PER_REQUEST, facts)
    assert free.total_minor == 0 and free.window is not None and free.window.units == 0


def test_the_tariff_plans_fit_their_entries_and_dearer_plans_do_not() -> None:
    request = GOV_INFO_FEE_PER_REQUEST
    assert validate_plan_against_entry(tariff_plan(request), request) == []
    assert validate_plan_against_entry(tariff_plan(GOV_INFO_FEE_PER_PAGE), GOV_INFO_FEE_PER_PAGE) == []
    cheaper = tariff_plan(
        request, tiers=[request.tiers[0].model_dump(mode="json"), {"first_unit": 11, "unit_price": "100"}]
    )
    assert validate_plan_against_entry(cheaper, request) == []
    steeper = tariff_plan(
        request,
        tiers=[
            *(t.model_dump(mode="json") for t in request.tiers[:2]),
            {"first_unit": 31, "unit_price": "200", "band_size": 10, "band_step": "150"},
        ],
    )
    found = validate_plan_against_entry(steeper, request)
    assert [(v.field, v.quantity, v.limit) for v in found] == [("price_plan.unit_price", 41, "300.00")]
    flat = plan(
        kind="tiered",
        style="graduated",
        tiers=[
            {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
            {"first_unit": 11, "unit_price": "150"},
        ],
    )
    assert [v.quantity for v in validate_plan_against_entry(flat, request)] == [11]
    charges_the_free_ones = plan(kind="fixed", unit_price="50")
    assert validate_plan_against_entry(charges_the_free_ones, request)[0].quantity == 1


def test_plans_may_not_change_the_entrys_unit_or_window() -> None:
    request = GOV_INFO_FEE_PER_REQUEST
    per_page = tariff_plan(request, unit="per_page")
    yearly = tariff_plan(request, accumulation="counterparty_year")
    one_off = plan(kind="one_off", price="10")
    assert [v.field for v in validate_plan_against_entry(per_page, request)] == ["price_plan.unit"]
    assert [v.field for v in validate_plan_against_entry(yearly, request)] == ["price_plan.accumulation"]
    assert [v.field for v in validate_plan_against_entry(one_off, request)] == ["price_plan.kind"]
