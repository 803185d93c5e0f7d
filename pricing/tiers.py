"""Marginal (累进) tiers, including an open-ended tail that rises band by band.

A tier prices units `first_unit`..`last_unit` (1-based, inclusive). The last tier is open-ended
and may carry a band rule: `band_size` units per band, each further band `band_step` dearer per
unit. 国办函〔2020〕109号 Art. 4 in that shape: 1–10 free, 11–30 at 100, then from unit 31
bands of 10 starting at 200 and rising by 100 (31–40 at 200, 41–50 at 300, …), priced exactly
for any quantity (closed form), never approximated by a finite list of tiers.

JSON: `{"first_unit": 31, "last_unit": null, "unit_price": "200", "band_size": 10,
"band_step": "100"}`; a tier without a band rule serialises exactly as before (no band keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from pricing.types import Price

# A quote names each band it touches up to this many, then sums the full bands between the
# first ones and the last (partial) one in one line, so a huge quantity stays a short quote.
MAX_ITEMISED_BANDS = 12


@dataclass(frozen=True)
class Segment:
    """Units `first`..`last` of one tier at one price (`bands` > 1: several full bands summed,
    `unit_price` their exact average, `from_price` the first band's price)."""

    first: int
    last: int
    unit_price: Decimal
    bands: int = 1
    from_price: Decimal | None = None

    @property
    def units(self) -> int:
        return self.last - self.first + 1

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.units


class Tier(BaseModel):
    """Units `first_unit`..`last_unit` (inclusive, 1-based; open-ended if None) at `unit_price`;
    an open-ended tier may rise by `band_step` per unit for each further band of `band_size`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_unit: int = Field(ge=1)
    last_unit: int | None = Field(default=None, ge=1)
    unit_price: Price
    band_size: int | None = Field(default=None, ge=1)
    band_step: Price | None = None

    @model_validator(mode="after")
    def _band_rule(self) -> Tier:
        if (self.band_size is None) != (self.band_step is None):
            raise ValueError("band_size/band_step: a band rule needs both the band size and the step")
        if self.band_size is not None and self.last_unit is not None:
            raise ValueError("band_size: only the open-ended last tier (last_unit null) rises band by band")
        if self.band_step is not None and self.band_step <= 0:
            raise ValueError("band_step: must be above 0 (omit band_size and band_step for a flat tier)")
        return self

    @model_serializer(mode="wrap")
    def _without_absent_band(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.band_size is None:  # stored plans and entries keep their shape
            data.pop("band_size", None)
            data.pop("band_step", None)
        return data

    @property
    def progressive(self) -> bool:
        return self.band_size is not None

    def units_in(self, quantity: int) -> int:
        """How many of the first `quantity` units fall in this tier."""
        top = quantity if self.last_unit is None else min(quantity, self.last_unit)
        return max(0, top - self.first_unit + 1)

    def contains(self, unit: int) -> bool:
        return self.first_unit <= unit and (self.last_unit is None or unit <= self.last_unit)

    def label(self) -> str:
        """The tier as a fee schedule prints it: 11–30, or 101+ when open-ended."""
        if self.last_unit is None:
            return f"{self.first_unit}+"
        return f"{self.first_unit}–{self.last_unit}"

    def _band_price(self, band: int) -> Decimal:
        return self.unit_price + (self.band_step or Decimal(0)) * band

    def price_of(self, unit: int) -> Decimal:
        """The price of unit number `unit` (which this tier contains)."""
        if self.band_size is None:
            return self.unit_price
        return self._band_price((unit - self.first_unit) // self.band_size)

    def amount_upto(self, quantity: int) -> Decimal:
        """Exact amount of this tier's units among the first `quantity` (closed form)."""
        n = self.units_in(quantity)
        if self.band_size is None or self.band_step is None:
            return self.unit_price * n
        full, rest = divmod(n, self.band_size)
        whole_bands = self.band_size * (self.unit_price * full + self.band_step * (full * (full - 1) // 2))
        return whole_bands + self._band_price(full) * rest

    def segments(self, first: int, last: int) -> list[Segment]:
        """Units `first`..`last` that fall in this tier, one segment per price (band)."""
        lo = max(first, self.first_unit)
        hi = last if self.last_unit is None else min(last, self.last_unit)
        if lo > hi:
            return []
        if self.band_size is None:
            return [Segment(lo, hi, self.unit_price)]
        size, start = self.band_size, self.first_unit
        k0, k1 = (lo - start) // size, (hi - start) // size

        def band(k: int) -> Segment:
            return Segment(
                max(lo, start + k * size), min(hi, start + (k + 1) * size - 1), self._band_price(k)
            )

        if k1 - k0 + 1 <= MAX_ITEMISED_BANDS:
            return [band(k) for k in range(k0, k1 + 1)]
        ka, kb = k0 + MAX_ITEMISED_BANDS - 2, k1 - 1  # full bands: neither the first nor the last
        middle = Segment(
            start + ka * size,
            start + (kb + 1) * size - 1,
            self._band_price(ka) + (self.band_step or Decimal(0)) * Decimal(kb - ka) / 2,
            bands=kb - ka + 1,
            from_price=self._band_price(ka),
        )
        return [*(band(k) for k in range(k0, ka)), middle, band(k1)]


def check_tiers(tiers: Sequence[Tier], field: str = "tiers") -> None:
    """Tiers start at unit 1, are ordered, contiguous, non-overlapping; only the last is open
    (and only it may carry a band rule, which `Tier` itself enforces)."""
    if not tiers:
        raise ValueError(f"{field}: at least one tier is needed")
    expected = 1
    for i, tier in enumerate(tiers):
        if tier.first_unit != expected:
            problem = "overlap" if tier.first_unit < expected else "leave a gap"
            raise ValueError(
                f"{field}[{i}]: tiers must be ordered and contiguous; first_unit "
                f"{tier.first_unit} would {problem} (expected {expected})"
            )
        if tier.last_unit is None:
            if i != len(tiers) - 1:
                raise ValueError(f"{field}[{i}]: only the last tier may be open-ended")
            return
        if tier.last_unit < tier.first_unit:
            raise ValueError(f"{field}[{i}]: last_unit is before first_unit")
        expected = tier.last_unit + 1
    raise ValueError(f"{field}: the last tier must be open-ended (last_unit null)")


def graduated_total(tiers: Sequence[Tier], quantity: int) -> Decimal:
    """Marginal (累进) pricing: each of the first `quantity` units at the price of its tier."""
    return sum((t.amount_upto(quantity) for t in tiers), Decimal(0))


def graduated_between(tiers: Sequence[Tier], prior: int, quantity: int) -> Decimal:
    """Exact amount of units `prior + 1` .. `prior + quantity` (marginal after `prior`)."""
    return graduated_total(tiers, prior + quantity) - graduated_total(tiers, prior)


def price_at(tiers: Sequence[Tier], unit: int) -> Decimal:
    """The marginal price of unit number `unit` (1-based)."""
    return next(t for t in tiers if t.contains(unit)).price_of(unit)
