"""Government-guided price catalogue entries for paid public data (政府指导价, Art. 65).

An entry is what the price authority publishes for one class of public data: the unit, the
marginal tiers (e.g. the first 10 free), either a base price per tier with a permitted float
band (Price Law Art. 3) or a ceiling per tier (上限收费标准, 发改价格〔2025〕65号), purposes
that are free or reduced, the effective period and the document it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from pricing.money import CURRENCIES
from pricing.types import Percent, Tier, check_tiers, graduated_total

# Free for public governance and public welfare uses (发改价格〔2025〕65号).
DEFAULT_PURPOSE_REDUCTIONS: dict[str, Decimal] = {
    "public_governance": Decimal(100),
    "public_welfare": Decimal(100),
}


class Unit(StrEnum):
    PER_RECORD = "per_record"
    PER_CALL = "per_call"
    PER_GB = "per_gb"
    PER_MONTH = "per_month"
    PER_REPORT = "per_report"


class GuidedPriceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_key: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    version: int = Field(default=1, ge=1)
    data_class: str = Field(min_length=1, max_length=80)
    unit: Unit
    currency: str = "CNY"
    mode: Literal["band", "ceiling"]
    tiers: tuple[Tier, ...] = Field(min_length=1)
    band_up_pct: Percent | None = None
    band_down_pct: Percent | None = None
    # purpose -> reduction in percent (100 = free)
    purpose_reductions: dict[str, Percent] = Field(
        default_factory=lambda: dict(DEFAULT_PURPOSE_REDUCTIONS)
    )
    effective_from: AwareDatetime
    effective_to: AwareDatetime | None = None
    legal_basis: str = Field(min_length=2, max_length=500)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GuidedPriceEntry:
        check_tiers(self.tiers)
        if self.mode == "band":
            if self.band_up_pct is None or self.band_down_pct is None:
                raise ValueError("band mode needs band_up_pct and band_down_pct around the base")
        elif self.band_up_pct is not None or self.band_down_pct is not None:
            raise ValueError("a ceiling entry has no float band")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    def bounds(self, quantity: int) -> tuple[Decimal, Decimal]:
        """The lowest and highest lawful total for `quantity` units (before purpose reductions)."""
        reference = graduated_total(self.tiers, quantity)
        if self.mode == "ceiling":
            return Decimal(0), reference
        assert self.band_up_pct is not None and self.band_down_pct is not None
        low = reference * (100 - self.band_down_pct) / 100
        high = reference * (100 + self.band_up_pct) / 100
        return low, high

    def reduction_for(self, purpose: str) -> Decimal:
        return self.purpose_reductions.get(purpose, Decimal(0))


def entry_in_force(
    entries: Iterable[GuidedPriceEntry], data_class: str, at: datetime
) -> GuidedPriceEntry | None:
    """The newest version in force at `at` for `data_class` (a quote uses the entry of its time)."""
    candidates = [e for e in entries if e.data_class == data_class and e.in_force(at)]
    return max(candidates, key=lambda e: (e.effective_from, e.version), default=None)
