"""Accumulation windows: over which span a counterparty's units add up before tiers apply.

国办函〔2020〕109号 Art. 4 counts requests "per applicant within one natural month" (同一申请人
一个自然月内累计); Art. 5 counts the pages of one application (per order). A guided entry, and
any plan that says so, declares one of:

- `per_order`: every order starts at unit 1 (the behaviour before windows existed);
- `counterparty_month`: units add up per counterparty per calendar month;
- `counterparty_year`: units add up per counterparty per calendar year;

calendar months and years in Beijing time (Asia/Shanghai), whatever zone the moment is given
in. A window is identified by a stable key (`month:2026-06`, `year:2026`) that the service
stores next to the counterparty and the tariff it counts for.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pricing.types import UtcDatetime

BEIJING = ZoneInfo("Asia/Shanghai")


class AccumulationWindow(StrEnum):
    PER_ORDER = "per_order"
    COUNTERPARTY_MONTH = "counterparty_month"
    COUNTERPARTY_YEAR = "counterparty_year"

    @property
    def accumulates(self) -> bool:
        """True when earlier orders in the window move this order up the tiers."""
        return self is not AccumulationWindow.PER_ORDER

    @property
    def en_phrase(self) -> str:
        return {"per_order": "in this order", "counterparty_month": "this month"}.get(self.value, "this year")

    @property
    def zh_phrase(self) -> str:
        return {"per_order": "本单", "counterparty_month": "本月"}.get(self.value, "本年度")


class WindowSpan(BaseModel):
    """One calendar window: [starts_at, ends_at) in UTC, and its stable key."""

    model_config = ConfigDict(frozen=True)

    window: AccumulationWindow
    key: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime

    def contains(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def describe(self) -> str:
        """`calendar month 2026-06 (Beijing time)`, as a quote's reason names it."""
        kind = "calendar month" if self.window is AccumulationWindow.COUNTERPARTY_MONTH else "calendar year"
        return f"{kind} {self.key.split(':', 1)[1]} (Beijing time)"


def month_span(at: datetime) -> WindowSpan:
    """The Beijing calendar month `at` falls in (an aware datetime in any zone)."""
    local = at.astimezone(BEIJING)
    start = datetime(local.year, local.month, 1, tzinfo=BEIJING)
    end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=BEIJING)
    return WindowSpan(
        window=AccumulationWindow.COUNTERPARTY_MONTH,
        key=f"month:{local.year:04d}-{local.month:02d}",
        starts_at=start,
        ends_at=end,
    )


def year_span(at: datetime) -> WindowSpan:
    """The Beijing calendar year `at` falls in."""
    local = at.astimezone(BEIJING)
    return WindowSpan(
        window=AccumulationWindow.COUNTERPARTY_YEAR,
        key=f"year:{local.year:04d}",
        starts_at=datetime(local.year, 1, 1, tzinfo=BEIJING),
        ends_at=datetime(local.year + 1, 1, 1, tzinfo=BEIJING),
    )


def window_span(window: AccumulationWindow, at: datetime) -> WindowSpan | None:
    """The window `at` falls in; None for `per_order` (nothing carries over between orders)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at: an aware datetime is needed to find its Beijing calendar window")
    if window is AccumulationWindow.COUNTERPARTY_MONTH:
        return month_span(at)
    if window is AccumulationWindow.COUNTERPARTY_YEAR:
        return year_span(at)
    return None


class WindowUsage(BaseModel):
    """What a quote counts in its window: the service stores it with the order and, at payment,
    checks the window still holds `prior_units` before adding `units` (INTEGRATION.md)."""

    model_config = ConfigDict(frozen=True)

    window: AccumulationWindow
    key: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    prior_units: int = Field(ge=0)
    units: int = Field(ge=0, description="units this order adds to the window (0: exempt purpose)")

    @model_validator(mode="after")
    def _calendar(self) -> WindowUsage:
        if not self.window.accumulates:
            raise ValueError("window: a per-order window carries nothing over")
        return self

    @property
    def units_after(self) -> int:
        return self.prior_units + self.units
