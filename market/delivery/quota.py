"""The call quota of an API licence is what was bought.

- A per-call plan (a fixed, metered or tiered plan whose unit is a call or a request): the
  quantity ordered is the number of calls. Quantity 5 is 5 calls, whatever the licence
  template says (issue 16: quantity 1 and quantity 100 used to get the template's 10,000).
- A subscription: the template's quota is per period of the plan (month, quarter, year) and
  renews at the start of each period, counted from the licence's start.
- A one-off plan, or a plan priced by another unit (records, pages, GB): the template's quota
  over the licence's term, as before (a count of calls is not what such a plan sells).

Buying again is a new order, so a new licence with its own credential and its own quota: a
licence's terms never change after the sale except as its terms say (partial refunds).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

PER_CALL_KINDS = frozenset({"fixed", "metered", "tiered"})
# Stored plans spell the unit `per_call`; sellers may write the bare word (pricing.units).
CALL_UNITS = frozenset({"per_call", "per_request", "call", "calls", "request", "requests", "次", "件"})
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def bought_calls(price_plan: dict[str, Any], quantity: str) -> int | None:
    """The calls a per-call plan sold for `quantity`; None when the plan does not sell calls."""
    if price_plan.get("kind") not in PER_CALL_KINDS or str(price_plan.get("unit", "")) not in CALL_UNITS:
        return None
    try:
        calls = Decimal(quantity)
    except InvalidOperation:
        return None
    return int(calls) if calls == calls.to_integral_value() and calls >= 1 else None


def quota_period(price_plan: dict[str, Any]) -> str | None:
    """The period a subscription's quota renews on (None: one quota over the term)."""
    period = price_plan.get("period")
    if price_plan.get("kind") == "subscription" and period in PERIOD_MONTHS:
        return str(period)
    return None


def period_index(period: str | None, start: datetime, at: datetime) -> int:
    """Which period of the licence `at` falls in: 0 for the first (and the only one without a
    period). Periods are calendar months from the licence's start, so a licence starting on
    31 January renews on the last day of each shorter month's successor (month arithmetic)."""
    if period is None or at <= start:
        return 0
    months = (at.year - start.year) * 12 + at.month - start.month
    if (at.day, at.time()) < (start.day, start.time()):
        months -= 1
    return max(0, months) // PERIOD_MONTHS[period]
