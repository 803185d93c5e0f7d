"""Itemised base lines, and the words they carry in English and Chinese.

Within an accumulation window a line names the units it prices by their number in the window
and says so: `requests 11–20 this month: 10 × 100.00` / `本月第11–20件：10 × 100.00`, with the
window and the units already counted in its reason. Per order, lines keep the wording quotes
had before windows existed (`units 1–10 at 0.00`, reason `tier 1–10 at 0.00`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel

from pricing.tiers import Segment, Tier
from pricing.types import show_price
from pricing.units import Unit, en_range, zh_range
from pricing.windows import WindowSpan


class BaseLine(BaseModel):
    """One priced line before purposes and discounts; amounts exact (not yet rounded)."""

    code: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    reason: str
    description_zh: str = ""


def line(
    code: str, description: str, n: int, unit_price: Decimal, reason: str, description_zh: str = ""
) -> BaseLine:
    return BaseLine(
        code=code,
        description=description,
        quantity=n,
        unit_price=unit_price,
        amount=unit_price * n,
        reason=reason,
        description_zh=description_zh,
    )


def plural(unit: Unit | None) -> str:
    return unit.plural if unit is not None else "units"


def count_en(unit: Unit | None, n: int) -> str:
    """`1 request`, `10 requests`, `10 units`."""
    if unit is not None:
        return unit.en_count(n)
    return f"{n} unit" if n == 1 else f"{n} units"


def span_words(unit: Unit | None, span: WindowSpan | None, first: int, last: int) -> tuple[str, str]:
    """(`requests 11–20 this month`, `本月第11–20件`); without a window, just the units."""
    en, zh = en_range(unit, first, last), zh_range(unit, first, last)
    if span is None:
        return en, zh
    return f"{en} {span.window.en_phrase}", f"{span.window.zh_phrase}{zh}"


def counted_before(unit: Unit | None, span: WindowSpan, prior: int) -> str:
    """`10 requests already counted in calendar month 2026-06 (Beijing time)`."""
    return f"{count_en(unit, prior)} already counted in {span.describe()}"


def slice_line(
    code: str,
    unit: Unit | None,
    span: WindowSpan | None,
    prior: int,
    first: int,
    last: int,
    unit_price: Decimal,
    reason: str,
) -> BaseLine:
    """Units `first`..`last` (numbered within the window) at `unit_price`, said so."""
    n, price = last - first + 1, show_price(unit_price)
    en, zh = span_words(unit, span, first, last)
    if span is not None:
        reason = f"{reason}; marginal after {counted_before(unit, span, prior)}"
    return line(code, f"{en}: {n} × {price}", n, unit_price, reason, f"{zh}：{n} × {price}")


def _segment_line(
    tier: Tier, seg: Segment, unit: Unit | None, span: WindowSpan | None, prior: int
) -> BaseLine:
    price = show_price(seg.unit_price)
    if seg.bands == 1:
        where = f"tier {tier.label()}"
        if tier.band_size is not None:
            band_first = tier.first_unit + (seg.first - tier.first_unit) // tier.band_size * tier.band_size
            where += f", band {band_first}–{band_first + tier.band_size - 1}"
        return slice_line(
            "tier", unit, span, prior, seg.first, seg.last, seg.unit_price, f"{where} at {price}"
        )
    assert tier.band_size is not None and tier.band_step is not None and seg.from_price is not None
    rule = (
        f"{seg.bands} bands of {tier.band_size} from {show_price(seg.from_price)} rising by "
        f"{show_price(tier.band_step)}, average {price}"
    )
    result = slice_line(
        "tier", unit, span, prior, seg.first, seg.last, seg.unit_price, f"tier {tier.label()}: {rule}"
    )
    return result.model_copy(update={"description": f"{result.description} ({rule})"})


def tier_lines(
    tiers: Sequence[Tier], prior: int, quantity: int, unit: Unit | None, span: WindowSpan | None
) -> list[BaseLine]:
    """Graduated (累进) lines for units `prior + 1` .. `prior + quantity`, exact amounts."""
    first, last = prior + 1, prior + quantity
    lines: list[BaseLine] = []
    for tier in tiers:
        segments = tier.segments(first, last)
        if not segments:
            continue
        if span is None and not tier.progressive:
            # One line per tier, named by the tier, as quotes were itemised before windows.
            seg, price = segments[0], show_price(tier.unit_price)
            lines.append(
                line(
                    "tier",
                    f"{plural(unit)} {tier.label()} at {price}",
                    seg.units,
                    tier.unit_price,
                    f"tier {tier.label()} at {price}",
                    f"{zh_range(unit, seg.first, seg.last)}：{seg.units} × {price}",
                )
            )
            continue
        lines.extend(_segment_line(tier, seg, unit, span, prior) for seg in segments)
    return lines
