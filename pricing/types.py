"""Field types shared by plans and catalogue entries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
)

from pricing.errors import PricingError
from pricing.money import to_decimal


def _decimal(value: Any) -> Decimal:
    try:
        return to_decimal(value)
    except PricingError as exc:
        raise ValueError(exc.reason) from exc


# A price: decimal string or integer, never a float, never negative. Field(ge=0) makes a
# negative price fail with the field's own location.
Price = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, max_digits=20, decimal_places=8)]
# A percentage 0..100 (discounts, reductions, float bands).
Percent = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, le=100)]


KIND_ERROR = "kind_required"


def _kind_of(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


def by_kind(*kinds: str) -> Discriminator:
    """Choose a union member by its `kind`. A missing or unknown kind is one error naming the
    kinds accepted (pydantic's own says "Unable to extract tag using discriminator 'kind'")."""
    accepted = ", ".join(kinds)
    return Discriminator(
        _kind_of,
        custom_error_type=KIND_ERROR,
        custom_error_message=f"kind is required: one of {accepted}",
        custom_error_context={"discriminator": "kind", "expected_tags": accepted},
    )


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Timezone-aware, stored in UTC: the same instant given as +08:00 or Z makes equal objects and
# the same quote digest. Naive datetimes are refused (AwareDatetime).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Tier(BaseModel):
    """Units `first_unit`..`last_unit` (inclusive, 1-based; open-ended if None) at `unit_price`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_unit: int = Field(ge=1)
    last_unit: int | None = Field(default=None, ge=1)
    unit_price: Price

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


def show_price(value: Decimal) -> str:
    """A unit price for reasons: at least two decimals (100.00), more when it has them (0.005)."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value.normalize(), "f")
    return format(value.quantize(Decimal("0.01")), "f")


def check_tiers(tiers: tuple[Tier, ...] | list[Tier], field: str = "tiers") -> None:
    """Tiers start at unit 1, are ordered, contiguous, non-overlapping; only the last is open."""
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


def graduated_total(tiers: tuple[Tier, ...] | list[Tier], quantity: int) -> Decimal:
    """Marginal (累进) pricing: each unit at the price of the tier it falls in."""
    return sum((t.unit_price * t.units_in(quantity) for t in tiers), Decimal(0))
