"""Government-guided price catalogue entries for paid public data (政府指导价, Art. 65).

Jilin Big Data Regulation Art. 65: paid public data is priced under government guidance;
enterprise and personal data are priced autonomously (see `pricing.plans`).

An entry is what the price authority publishes for one class of public data: the unit, the
marginal (累进) tiers, e.g. the first 10 free, each tier carrying either a base price with a
permitted float band (Price Law Art. 3) or a ceiling (上限收费标准, 发改价格〔2025〕65号),
purposes that are free or reduced, the effective period and the document it rests on.

JSON shape (what the price authority publishes)::

    {"entry_id": "JL-PUB-TRAFFIC", "version": 1, "data_class": "traffic",
     "unit": "per_call", "currency": "CNY", "mode": "band",
     "band_up_pct": "10", "band_down_pct": "20",
     "tiers": [{"first_unit": 1, "last_unit": 10, "unit_price": "0"},
               {"first_unit": 11, "last_unit": null, "unit_price": "2.00"}],
     "purpose_rules": [{"purpose": "public_welfare", "treatment": "free"},
                       {"purpose": "academic_research", "treatment": "reduced",
                        "reduction_pct": "50"}],
     "effective_from": "2026-01-01T00:00:00Z", "effective_to": null,
     "legal_basis": "发改价格〔2025〕65号", "status": "published"}

Shorthands accepted on input: `base_price` (band) or `ceiling` instead of `tiers` for a single
flat price; `entry_key` for `entry_id`; the legacy `purpose_reductions` map (purpose -> pct).

Also (issue 20): `unit` may be any unit of count of `pricing.units` (request/件, page/页,
record, call, GB, month); the open-ended last tier may rise band by band (`pricing.tiers`);
`accumulation` (default `per_order`) says over which window a counterparty's units add up
before the tiers apply (`pricing.windows`), e.g. per applicant per calendar month for
国办函〔2020〕109号 Art. 4. An entry's totals over a window are rounded as running totals, so
pricing N units at once costs exactly what N units cost over several orders in one window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from pricing.lines import BaseLine, tier_lines
from pricing.money import Money, to_decimal
from pricing.tiers import Tier, check_tiers, graduated_total
from pricing.types import Currency, Percent, UtcDatetime
from pricing.units import Unit
from pricing.windows import AccumulationWindow, WindowSpan

FREE_BY_DEFAULT = ("public_governance", "public_welfare")  # 发改价格〔2025〕65号


class PurposeRule(BaseModel):
    """A purpose the authority makes free or cheaper (public governance/welfare are free)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str = Field(min_length=1, max_length=80)
    treatment: Literal["free", "reduced"]
    reduction_pct: Percent | None = None

    @model_validator(mode="after")
    def _pct(self) -> PurposeRule:
        if self.treatment == "reduced" and self.reduction_pct is None:
            raise ValueError("reduction_pct: a reduced purpose needs its reduction in percent")
        if self.treatment == "free" and self.reduction_pct not in (None, Decimal(100)):
            raise ValueError("reduction_pct: a free purpose is a 100% reduction")
        return self

    @property
    def pct(self) -> Decimal:
        return Decimal(100) if self.treatment == "free" else (self.reduction_pct or Decimal(0))


def _default_rules() -> tuple[PurposeRule, ...]:
    return tuple(PurposeRule(purpose=p, treatment="free") for p in FREE_BY_DEFAULT)


class GuidedPriceEntry(BaseModel):
    """One version of a guided price for a class of paid public data (Art. 65)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    entry_id: str = Field(
        min_length=3,
        max_length=80,
        pattern=r"^[A-Za-z0-9._-]+$",
        validation_alias=AliasChoices("entry_id", "entry_key"),
    )
    version: int = Field(default=1, ge=1)
    data_class: str = Field(min_length=1, max_length=80)
    unit: Unit
    currency: Currency = "CNY"
    mode: Literal["band", "ceiling"]
    tiers: tuple[Tier, ...] = Field(min_length=1)
    accumulation: AccumulationWindow = AccumulationWindow.PER_ORDER
    band_up_pct: Percent | None = None
    band_down_pct: Percent | None = None
    purpose_rules: tuple[PurposeRule, ...] = Field(default_factory=_default_rules)
    effective_from: UtcDatetime
    effective_to: UtcDatetime | None = None
    legal_basis: str = Field(min_length=2, max_length=500)
    status: Literal["published", "superseded", "withdrawn"] = "published"

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        base, ceiling = data.pop("base_price", None), data.pop("ceiling", None)
        if base is not None and ceiling is not None:
            raise ValueError("base_price/ceiling: an entry has a base price with a band OR a ceiling")
        if (base is not None or ceiling is not None) and "tiers" in data:
            raise ValueError("tiers: give either tiers or a single base_price/ceiling, not both")
        if base is not None or ceiling is not None:
            data["tiers"] = [{"first_unit": 1, "unit_price": base if ceiling is None else ceiling}]
            data.setdefault("mode", "band" if ceiling is None else "ceiling")
        if "mode" not in data:
            has_band = data.get("band_up_pct") is not None or data.get("band_down_pct") is not None
            data["mode"] = "band" if has_band else "ceiling"
        legacy = data.pop("purpose_reductions", None)
        if legacy is not None:
            if "purpose_rules" in data:
                raise ValueError("purpose_rules: give purpose_rules or purpose_reductions, not both")
            if not isinstance(legacy, dict):
                raise ValueError("purpose_reductions: a map of purpose to percent")
            data["purpose_rules"] = [
                {"purpose": k, "treatment": "free"}
                if to_decimal(v, f"purpose_reductions.{k}") == 100
                else {"purpose": k, "treatment": "reduced", "reduction_pct": v}
                for k, v in legacy.items()
            ]
        return data

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        check_tiers(value)
        return value

    @field_validator("purpose_rules")
    @classmethod
    def _unique_purposes(cls, value: tuple[PurposeRule, ...]) -> tuple[PurposeRule, ...]:
        names = [r.purpose for r in value]
        if len(names) != len(set(names)):
            raise ValueError("each purpose may appear once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GuidedPriceEntry:
        if self.mode == "band":
            if self.band_up_pct is None or self.band_down_pct is None:
                raise ValueError(
                    "band_up_pct/band_down_pct: a band entry needs both, so the band contains "
                    "the base price (Price Law Art. 3)"
                )
        elif self.band_up_pct is not None or self.band_down_pct is not None:
            raise ValueError("band_up_pct/band_down_pct: a ceiling entry has no float band")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to: must be after effective_from")
        return self

    @property
    def entry_key(self) -> str:
        """The older name of `entry_id`, kept for callers written against it."""
        return self.entry_id

    def in_force(self, at: datetime) -> bool:
        if self.status == "withdrawn":
            return False
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    def reference_total(self, quantity: int) -> Decimal:
        """Base (band) or ceiling total for `quantity` units, tier by tier (累进)."""
        return graduated_total(self.tiers, quantity)

    def factors(self) -> tuple[Decimal, Decimal]:
        """What the reference price is multiplied by for the lowest and the highest lawful
        price: band (1 - down%, 1 + up%) (Price Law Art. 3); ceiling (0, 1) (65号)."""
        if self.mode == "ceiling":
            return Decimal(0), Decimal(1)
        assert self.band_up_pct is not None and self.band_down_pct is not None
        return (100 - self.band_down_pct) / 100, (100 + self.band_up_pct) / 100

    def bounds(self, quantity: int) -> tuple[Decimal, Decimal]:
        """The lowest and highest lawful total for `quantity` units before purpose rules.

        Band: [base x (1 - down%), base x (1 + up%)]; ceiling: [0, ceiling] (Art. 65).
        """
        reference = self.reference_total(quantity)
        low, high = self.factors()
        return reference * low, reference * high

    def slice_bounds_minor(self, prior: int, quantity: int) -> tuple[int, int]:
        """Lowest and highest lawful amount, in minor units, for units `prior + 1` ..
        `prior + quantity` of a window: each bound's running total rounded once, so the
        slices of consecutive orders add up to the bound of all their units together."""
        before, after = self.bounds(prior), self.bounds(prior + quantity)
        low = self._minor(after[0]) - self._minor(before[0])
        return low, self._minor(after[1]) - self._minor(before[1])

    def _minor(self, amount: Decimal) -> int:
        return Money(amount, self.currency).minor_units

    def reference_minor(self, prior: int, quantity: int) -> int:
        """The reference (base or ceiling) charge for units `prior + 1` .. `prior + quantity`."""
        return self._minor(self.reference_total(prior + quantity)) - self._minor(self.reference_total(prior))

    def reference_lines(self, prior: int, quantity: int, span: WindowSpan | None) -> list[BaseLine]:
        """The entry's own itemised reference price for those units (as published)."""
        return tier_lines(self.tiers, prior, quantity, self.unit, span)

    def purpose_rule(self, purpose: str) -> PurposeRule | None:
        return next((r for r in self.purpose_rules if r.purpose == purpose), None)

    def reduction_for(self, purpose: str) -> Decimal:
        """Percent taken off for `purpose`: 100 = free, 0 = pays in full."""
        rule = self.purpose_rule(purpose)
        return rule.pct if rule is not None else Decimal(0)


def entry_in_force(
    entries: Iterable[GuidedPriceEntry], data_class: str, at: datetime
) -> GuidedPriceEntry | None:
    """The entry for `data_class` in force at `at` (latest start, then highest version wins);
    withdrawn entries never apply. A quote uses the entry of its own time (Art. 65)."""
    candidates = [e for e in entries if e.data_class == data_class and e.in_force(at)]
    return max(candidates, key=lambda e: (e.effective_from, e.version), default=None)
