"""Field types shared by plans, tiers and catalogue entries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Discriminator, Field

from pricing.errors import PricingError
from pricing.money import CURRENCIES, to_decimal


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


def _known_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"unknown currency {value!r}; known: {', '.join(CURRENCIES)}")
    return value


# An ISO 4217 currency the exchange settles in (pricing.money.CURRENCIES).
Currency = Annotated[str, AfterValidator(_known_currency)]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Timezone-aware, stored in UTC: the same instant given as +08:00 or Z makes equal objects and
# the same quote digest. Naive datetimes are refused (AwareDatetime).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def show_price(value: Decimal) -> str:
    """A unit price for reasons: at least two decimals (100.00), more when it has them (0.005)."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value.normalize(), "f")
    return format(value.quantize(Decimal("0.01")), "f")


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
