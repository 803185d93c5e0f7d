"""Maximum permitted revenue per authorised-operation product per year (发改价格〔2025〕65号).

发改价格〔2025〕65号 (NDRC and National Data Administration, 关于建立公共数据资源授权运营价格形成机制
的通知, 2025-01):
- Part 三: the development-and-reform department, with the data administration, approves the
  operator's maximum permitted revenue (最高准许收入) on "cover costs, reasonable profit":
  operating cost (经营成本) + permitted profit (准许利润) + tax (税金). Per-unit ceilings are set
  within it (the guided entries of `pricing.catalogue`).
- Part 四: revenue is assessed periodically; actual revenue above the maximum permitted
  revenue is deducted (予以扣减) when the next period's maximum permitted revenue is approved.

The rule implemented here, per product and Beijing calendar year (the exchange's reading;
the notice does not fix the period, the issue asks for yearly):
- permitted = operating cost + permitted profit + tax - deduction carried in, never below 0;
- revenue is the fees charged for the product in the year, net of refunds, tax included
  (the cap includes tax), in integer minor units;
- the exchange alerts when revenue first reaches 80 % of the permitted revenue (an early
  warning of its own) and when it reaches 100 %; reaching the cap does not stop sales, since the
  notice's remedy is the deduction, while every sale stays under its per-unit ceiling;
- at the year's end, excess = revenue - permitted (if positive) is carried into the next year
  as a deduction; a deduction larger than the next year's approved revenue leaves that year
  at 0 and carries its remainder on again, so no excess is ever forgiven.
"""

from __future__ import annotations

from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field

from pricing.money import Money
from pricing.types import Currency

LEGAL_BASIS = "发改价格〔2025〕65号"


class CapThreshold(IntEnum):
    """Percent of the permitted revenue at which the exchange alerts."""

    EARLY_WARNING = 80
    REACHED = 100


class RevenueCap(BaseModel):
    """A product's maximum permitted revenue for one year, as the price authority records it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product_ref: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=2000, le=2200)
    currency: Currency = "CNY"
    operating_cost_minor: int = Field(ge=0)
    permitted_profit_minor: int = Field(ge=0)
    tax_minor: int = Field(ge=0)
    deduction_minor: int = Field(default=0, ge=0, description="excess of earlier years deducted (65号 四)")
    legal_basis: str = Field(default=LEGAL_BASIS, min_length=2, max_length=500)

    @property
    def approved_minor(self) -> int:
        """Operating cost + permitted profit + tax (65号 三)."""
        return self.operating_cost_minor + self.permitted_profit_minor + self.tax_minor

    @property
    def permitted_minor(self) -> int:
        """What may be earned this year once earlier excess is deducted, never below 0."""
        return max(0, self.approved_minor - self.deduction_minor)

    @property
    def permitted(self) -> Money:
        return Money.from_minor(self.permitted_minor, self.currency)


def _reached(cap: RevenueCap, revenue_minor: int, threshold: CapThreshold) -> bool:
    if cap.permitted_minor == 0:
        return revenue_minor > 0  # nothing may be earned: any revenue is over the cap
    return revenue_minor * 100 >= int(threshold) * cap.permitted_minor


class RevenuePosition(BaseModel):
    """Revenue to date against the cap, for dashboards and the annual disclosure."""

    model_config = ConfigDict(frozen=True)

    product_ref: str
    year: int
    currency: str
    permitted_minor: int
    revenue_minor: int
    remaining_minor: int
    excess_minor: int
    reached: tuple[CapThreshold, ...]


def revenue_position(cap: RevenueCap, revenue_minor: int) -> RevenuePosition:
    return RevenuePosition(
        product_ref=cap.product_ref,
        year=cap.year,
        currency=cap.currency,
        permitted_minor=cap.permitted_minor,
        revenue_minor=revenue_minor,
        remaining_minor=max(0, cap.permitted_minor - revenue_minor),
        excess_minor=max(0, revenue_minor - cap.permitted_minor),
        reached=tuple(t for t in CapThreshold if _reached(cap, revenue_minor, t)),
    )


def threshold_crossings(
    cap: RevenueCap, revenue_before_minor: int, amount_minor: int
) -> tuple[CapThreshold, ...]:
    """The thresholds a new amount (a refund is negative) makes revenue reach for the first
    time: none, 80 %, 100 % or both at once. Each fires once per year as revenue rises; a
    refund that takes revenue back under a threshold makes it fire again on the way up."""
    after = revenue_before_minor + amount_minor
    return tuple(
        t for t in CapThreshold if _reached(cap, after, t) and not _reached(cap, revenue_before_minor, t)
    )


class YearEnd(BaseModel):
    """The year's outcome: the excess earned, and the deduction carried into next year."""

    model_config = ConfigDict(frozen=True)

    product_ref: str
    year: int
    revenue_minor: int
    permitted_minor: int
    excess_minor: int
    carried_forward_minor: int


def close_year(cap: RevenueCap, revenue_minor: int) -> YearEnd:
    """Excess over the permitted revenue, plus any deduction this year could not absorb, is
    carried into next year's approval as a deduction (65号 四)."""
    excess = max(0, revenue_minor - cap.permitted_minor)
    unabsorbed = max(0, cap.deduction_minor - cap.approved_minor)
    return YearEnd(
        product_ref=cap.product_ref,
        year=cap.year,
        revenue_minor=revenue_minor,
        permitted_minor=cap.permitted_minor,
        excess_minor=excess,
        carried_forward_minor=excess + unabsorbed,
    )


def next_year_cap(
    closed: YearEnd,
    *,
    operating_cost_minor: int,
    permitted_profit_minor: int,
    tax_minor: int,
    currency: str = "CNY",
    legal_basis: str = LEGAL_BASIS,
) -> RevenueCap:
    """Next year's cap for the same product, approved anew, with last year's carry deducted."""
    return RevenueCap(
        product_ref=closed.product_ref,
        year=closed.year + 1,
        currency=currency,
        operating_cost_minor=operating_cost_minor,
        permitted_profit_minor=permitted_profit_minor,
        tax_minor=tax_minor,
        deduction_minor=closed.carried_forward_minor,
        legal_basis=legal_basis,
    )
