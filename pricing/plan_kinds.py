"""The kinds of sellers' price plans (Art. 65) and how each itemises a quantity.

Each kind turns units `prior + 1` .. `prior + quantity` into exact base lines (`lines`); per
order `prior` is 0. A kind with a per-unit price exposes it as a marginal schedule of tiers, so
it can accumulate within a window and be checked unit by unit against a guided entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from pricing.discounts import Discount
from pricing.lines import BaseLine, count_en, line, plural, slice_line, tier_lines
from pricing.tiers import Tier, check_tiers
from pricing.types import Currency, Price, show_price
from pricing.units import Unit
from pricing.windows import AccumulationWindow, WindowSpan


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Plan(_Strict):
    currency: Currency = "CNY"
    plan_version: int = Field(default=1, ge=1)
    discounts: tuple[Discount, ...] = ()
    unit: Unit | None = None
    accumulation: AccumulationWindow | None = None

    @field_validator("discounts")
    @classmethod
    def _one_discount_per_kind(cls, value: tuple[Discount, ...]) -> tuple[Discount, ...]:
        kinds = [d.kind for d in value]
        if len(kinds) != len(set(kinds)):
            raise ValueError("at most one discount of each kind")
        return value

    @model_validator(mode="after")
    def _window_needs_marginal_units(self) -> _Plan:
        if (
            self.accumulation is not None
            and self.accumulation.accumulates
            and self.marginal_schedule() is None
        ):
            raise ValueError(
                "accumulation: only a fixed, metered or graduated plan prices units marginally "
                "within a window; this plan is priced per order"
            )
        return self

    @model_serializer(mode="wrap")
    def _without_absent_options(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("unit", "accumulation"):  # stored plans keep their shape
            if data.get(key) is None:
                data.pop(key, None)
        return data

    def marginal_schedule(self) -> tuple[Tier, ...] | None:
        """The price of each unit as graduated tiers (unit 1 carries any base fee); None when
        the plan has no per-unit price (one-off, subscription, volume tiers)."""
        return None

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        """Lines for units `prior + 1` .. `prior + quantity` of the window `span` (None: per order,
        prior 0). Only plans with a marginal schedule accept a window."""
        raise NotImplementedError

    def base_lines(self, quantity: int) -> list[BaseLine]:
        """The lines of one order of `quantity` units on its own (per order)."""
        return self.lines(0, quantity, self.unit, None)


class FixedPlan(_Plan):
    """A fixed price per unit."""

    kind: Literal["fixed"]
    unit_price: Price

    def marginal_schedule(self) -> tuple[Tier, ...]:
        return (Tier(first_unit=1, unit_price=self.unit_price),)

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        price = show_price(self.unit_price)
        if span is not None:
            first, last = prior + 1, prior + quantity
            return [slice_line("plan", unit, span, prior, first, last, self.unit_price, f"at {price}")]
        what = str(quantity) if unit is None else count_en(unit, quantity)
        return [
            line(
                "plan", f"{what} x {price}", quantity, self.unit_price, f"at {price}", f"{quantity} × {price}"
            )
        ]


class OneOffPlan(_Plan):
    """One lump sum for a one-off licence, whatever the quantity."""

    kind: Literal["one_off"]
    price: Price

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        return [line("plan", "one-off licence", 1, self.price, "one-off price", "一次性许可")]


class TieredPlan(_Plan):
    """Volume tiers: `graduated` (each unit at its tier's price, 累进) or `volume`
    (every unit at the price of the tier the quantity reaches)."""

    kind: Literal["tiered"]
    style: Literal["graduated", "volume"]
    tiers: tuple[Tier, ...] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        check_tiers(value)
        return value

    def marginal_schedule(self) -> tuple[Tier, ...] | None:
        return self.tiers if self.style == "graduated" else None

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        if self.style == "graduated":
            return tier_lines(self.tiers, prior, quantity, unit, span)
        tier = next(t for t in self.tiers if t.contains(quantity))
        price = tier.price_of(quantity)
        return [
            line(
                "tier",
                f"all {quantity} {plural(unit)} at tier {tier.label()}",
                quantity,
                price,
                f"volume tier {tier.label()} at {show_price(price)}",
                f"全部按第{tier.label()}档：{quantity} × {show_price(price)}",
            )
        ]


class MeteredPlan(_Plan):
    """Per unit (call, record, GB): an optional base fee, `included_units` at `unit_price`
    (0 = included in the fee), every unit above at `overage_unit_price` (default `unit_price`).
    Within a window the base fee and the included units are the window's, not each order's."""

    kind: Literal["metered"]
    base_fee: Price = Decimal(0)
    included_units: int = Field(default=0, ge=0)
    unit_price: Price = Decimal(0)
    overage_unit_price: Price | None = None

    @property
    def overage_price(self) -> Decimal:
        return self.unit_price if self.overage_unit_price is None else self.overage_unit_price

    def marginal_schedule(self) -> tuple[Tier, ...]:
        included, fee = self.included_units, self.base_fee
        first_price = fee + (self.unit_price if included else self.overage_price)
        if included == 0 and fee == 0:
            return (Tier(first_unit=1, unit_price=self.overage_price),)
        tiers = [Tier(first_unit=1, last_unit=1, unit_price=first_price)]
        if included >= 2:
            tiers.append(Tier(first_unit=2, last_unit=included, unit_price=self.unit_price))
        tiers.append(Tier(first_unit=max(2, included + 1), unit_price=self.overage_price))
        return tuple(tiers)

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        first, last, included = prior + 1, prior + quantity, self.included_units
        out = []
        if prior == 0 and (self.base_fee or included):
            once = f", once per {span.describe()}" if span is not None else ""
            out.append(
                line(
                    "base_fee",
                    f"base fee incl. {included} {plural(unit)}",
                    1,
                    self.base_fee,
                    f"metered plan base fee{once}",
                    f"基本费（含{included}{unit.zh if unit else '单位'}）",
                )
            )
        inside_last = min(last, included)
        if inside_last >= first:
            if span is None:
                n = inside_last
                out.append(
                    line(
                        "included",
                        f"{n} of {included} included {plural(unit)}",
                        n,
                        self.unit_price,
                        f"within the included quota at {show_price(self.unit_price)}",
                        f"含量内{n}/{included}：{n} × {show_price(self.unit_price)}",
                    )
                )
            else:
                reason = f"within the included quota at {show_price(self.unit_price)}"
                out.append(
                    slice_line("included", unit, span, prior, first, inside_last, self.unit_price, reason)
                )
        over_first = max(first, included + 1)
        if over_first <= last:
            code = "overage" if included else "usage"
            reason = f"metered at {show_price(self.overage_price)} per {unit.singular if unit else 'unit'}"
            if span is None:
                over = last - over_first + 1
                what = f"{over} {plural(unit)}" + (" over the included quota" if included else "")
                zh = f"超出含量{over}" if included else f"用量{over}"
                out.append(
                    line(
                        code,
                        what,
                        over,
                        self.overage_price,
                        reason,
                        f"{zh}：{over} × {show_price(self.overage_price)}",
                    )
                )
            else:
                out.append(slice_line(code, unit, span, prior, over_first, last, self.overage_price, reason))
        return out


class SubscriptionPlan(_Plan):
    """A price per period; the quantity is the number of periods."""

    kind: Literal["subscription"]
    period: Literal["month", "quarter", "year"]
    price_per_period: Price

    def lines(self, prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None) -> list[BaseLine]:
        price = show_price(self.price_per_period)
        return [
            line(
                "subscription",
                f"{quantity} {self.period}(s)",
                quantity,
                self.price_per_period,
                f"subscription at {price} per {self.period}",
                f"订阅{quantity}期：{quantity} × {price}",
            )
        ]
