"""Compare two marginal price schedules unit by unit, for every unit up to infinity.

Within an accumulation window an order pays for units `prior + 1` .. `prior + n`, so a plan
stays under its guided ceiling (or inside its band) for every possible order only if each
unit's price does (Art. 65). Both schedules are step functions: finite tiers, then a flat or
band-by-band rising tail (`pricing.tiers`); this finds the first unit where one, scaled,
exceeds the other, exactly, with a bounded amount of work.

Between two piece boundaries each side is constant or rises band by band (never falls:
`band_step` > 0). The scaled difference `upper - lower` can only grow where `upper` starts a
new band, so checking the first unit of the interval and each band start of `upper` finds the
first violation. Where both sides rise, their per-unit growth rates decide how far to look:
`upper` faster -> it must overtake, search until the proven point; slower -> it cannot after a
computable unit; equal -> the difference repeats with period lcm(band sizes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pricing.errors import PricingError
from pricing.tiers import Tier

# More band starts than this between two proven points means schedules too far apart to check.
MAX_BAND_CHECKS = 200_000


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int | None  # inclusive; None = open-ended
    price: Decimal  # already scaled
    size: int | None = None
    step: Decimal = Decimal(0)

    def price_of(self, unit: int) -> Decimal:
        if self.size is None:
            return self.price
        return self.price + self.step * ((unit - self.start) // self.size)

    def band_start_after(self, unit: int) -> int:
        """The first unit of the next band after the one holding `unit`."""
        assert self.size is not None
        return self.start + ((unit - self.start) // self.size + 1) * self.size


def _pieces(tiers: Sequence[Tier], factor: Decimal) -> list[_Piece]:
    return [
        _Piece(
            t.first_unit,
            t.last_unit,
            t.unit_price * factor,
            t.band_size,
            (t.band_step or Decimal(0)) * factor,
        )
        for t in tiers
    ]


def _at(pieces: list[_Piece], unit: int) -> _Piece:
    return next(p for p in pieces if p.start <= unit and (p.end is None or unit <= p.end))


def _ceil_div(a: Decimal, b: Decimal) -> int:
    return math.ceil(a / b)


def _search_bound(hi: _Piece, lo: _Piece, x: int) -> int | None:
    """Where both sides rise forever from `x`: the last unit worth checking, or None when the
    difference repeats (equal growth rates) and one period from `x` is enough (handled by the
    caller as `x + lcm`)."""
    assert hi.size is not None and lo.size is not None
    rate_hi, rate_lo = hi.step / hi.size, lo.step / lo.size
    # price_of(u) lies within one band step of price + step * (u - start) / size.
    line_hi, line_lo = hi.price - rate_hi * hi.start, lo.price - rate_lo * lo.start
    slack = hi.step + lo.step + abs(line_hi - line_lo)
    if rate_hi == rate_lo:
        return None
    return x + _ceil_div(slack, abs(rate_hi - rate_lo)) + hi.size + lo.size


def first_unit_above(
    upper: Sequence[Tier], upper_factor: Decimal, lower: Sequence[Tier], lower_factor: Decimal
) -> int | None:
    """The first unit whose price in `upper` x `upper_factor` exceeds its price in `lower` x
    `lower_factor`; None if no unit ever does. Raises PricingError if the schedules' band
    rules are so far apart that settling it would take more than MAX_BAND_CHECKS steps."""
    a, b = _pieces(upper, upper_factor), _pieces(lower, lower_factor)
    starts = sorted({p.start for p in a} | {p.start for p in b})
    for i, x in enumerate(starts):
        y = starts[i + 1] - 1 if i + 1 < len(starts) else None  # interval [x, y]
        hi, lo = _at(a, x), _at(b, x)
        found = _first_in_interval(hi, lo, x, y)
        if found is not None:
            return found
    return None


def _first_in_interval(hi: _Piece, lo: _Piece, x: int, y: int | None) -> int | None:
    if hi.price_of(x) > lo.price_of(x):
        return x
    if hi.size is None:
        return None  # upper is flat here and lower never falls: x was the worst unit
    if lo.size is None:
        return _first_band_above_flat(hi, lo.price, x, y)
    limit = _search_bound(hi, lo, x)
    if limit is None:
        limit = x + math.lcm(hi.size, lo.size)
    if y is not None:
        limit = min(limit, y)
    unit, checks = hi.band_start_after(x), 0
    while unit <= limit:
        if hi.price_of(unit) > lo.price_of(unit):
            return unit
        unit += hi.size
        checks += 1
        if checks > MAX_BAND_CHECKS:
            if y is None and hi.step / hi.size > lo.step / lo.size:
                return limit  # upper overtakes for good by `limit`: a sure (if late) violation
            raise PricingError(
                "tiers", "the band rules are too far apart to compare unit by unit; align their band sizes"
            )
    return None


def _first_band_above_flat(hi: _Piece, flat: Decimal, x: int, y: int | None) -> int | None:
    """The first band start after `x` where a rising `hi` exceeds `flat`, within [x, y]."""
    assert hi.size is not None
    if hi.step <= 0:
        return None
    band_x = (x - hi.start) // hi.size
    # the smallest band k with price + k * step > flat, adjusted for any rounding of the division
    k = max(band_x + 1, math.floor((flat - hi.price) / hi.step) + 1)
    while hi.price + hi.step * k <= flat:
        k += 1
    while k - 1 > band_x and hi.price + hi.step * (k - 1) > flat:
        k -= 1
    unit = hi.start + k * hi.size
    return unit if y is None or unit <= y else None
