"""Exact money: Decimal arithmetic, integer minor units (fen) at rest, one rounding rule.

Floats are refused everywhere: 0.1 + 0.2 is not a price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pricing.errors import PricingError

# ISO 4217 currencies the exchange settles in, with their minor-unit exponent.
CURRENCIES: dict[str, int] = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0}


def check_currency(currency: str, field: str = "currency") -> str:
    if currency not in CURRENCIES:
        raise PricingError(field, f"unknown currency {currency!r}; known: {', '.join(CURRENCIES)}")
    return currency


def to_decimal(value: Any, field: str = "amount") -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats (and bools) are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise PricingError(field, 'money must not be a float: send a decimal string such as "12.50"')
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise PricingError(field, f"{value!r} is not a number") from exc
    else:
        raise PricingError(field, f"expected a decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise PricingError(field, "must be a finite number")
    return result


def round_half_up_to_minor(amount: Decimal, currency: str) -> Decimal:
    """THE rounding rule of the exchange: half-up to the currency's minor unit (the fen)."""
    exponent = CURRENCIES[check_currency(currency)]
    # to_decimal: a float reaching the rounding rule is refused with the usual message.
    return to_decimal(amount).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, order=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        check_currency(self.currency)

    @classmethod
    def of(cls, amount: Any, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise PricingError("amount_minor", "minor units are an integer")
        return cls(Decimal(minor).scaleb(-CURRENCIES[check_currency(currency)]), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def minor_units(self) -> int:
        """Integer minor units of the rounded amount (what is stored)."""
        rounded = round_half_up_to_minor(self.amount, self.currency)
        return int(rounded.scaleb(CURRENCIES[self.currency]))

    def rounded(self) -> Money:
        return Money(round_half_up_to_minor(self.amount, self.currency), self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("money only combines with money")
        if other.currency != self.currency:
            raise PricingError("currency", f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Any) -> Money:
        """Exact product (unrounded); `factor` is an int, Decimal or decimal string, never float."""
        return Money(self.amount * to_decimal(factor, "factor"), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return self.times(factor)

    __rmul__ = __mul__

    def is_zero(self) -> bool:
        return self.amount == 0

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{round_half_up_to_minor(self.amount, self.currency)} {self.currency}"


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Exact sum; the currency is explicit so an empty sum still has one, and mixing is refused."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def allocate(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """Split `total` by `weights` in whole minor units; the parts always sum to the total.

    Largest remainder: every share is floored, the leftover fen go to the largest remainders
    (ties to the earliest), so no fen is lost or invented.
    """
    if not weights:
        raise PricingError("weights", "at least one weight is needed")
    ws = [to_decimal(w, "weights") for w in weights]
    if any(w < 0 for w in ws) or sum(ws) == 0:
        raise PricingError("weights", "weights are non-negative and not all zero")
    minor = total.minor_units
    sign = -1 if minor < 0 else 1
    minor = abs(minor)
    whole = sum(ws)
    exact = [Decimal(minor) * w / whole for w in ws]
    floors = [int(e) for e in exact]
    leftover = minor - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Money.from_minor(sign * f, total.currency) for f in floors]


def round_parts(amounts: Sequence[Decimal], currency: str) -> list[int]:
    """Minor units for non-negative exact parts, summing to the rounded exact whole.

    Rounding each line alone can drift from the rounded total (3 x 0.004 -> 0.00, not 0.01);
    so each part is floored and the fen the whole is owed go to the largest remainders
    (ties to the earliest). Each part ends within one fen of its exact amount.
    """
    exact = [to_decimal(a, "amounts") for a in amounts]
    return round_parts_to(exact, currency, Money(sum(exact, Decimal(0)), currency).minor_units)


def running_minor(before: Decimal, after: Decimal, currency: str) -> int:
    """What the units between two running totals cost: the rounded total after minus the
    rounded total before. The one rounding rule applies to the running total of a window, so
    the orders of a window add up to exactly what all their units cost at once."""
    return Money(after, currency).minor_units - Money(before, currency).minor_units


def round_parts_to(amounts: Sequence[Decimal], currency: str, whole_minor: int) -> list[int]:
    """Minor units for non-negative exact parts, summing to `whole_minor`, which must lie between
    the sum of the floored parts and that sum plus the number of parts with a remainder (as
    the rounded whole, or a `running_minor` slice, does): floors, then one fen each to the
    largest remainders (ties to the earliest)."""
    scale = CURRENCIES[check_currency(currency)]
    exact = [to_decimal(a, "amounts").scaleb(scale) for a in amounts]
    if any(e < 0 for e in exact):
        raise PricingError("amounts", "parts to round are non-negative")
    floors = [int(e) for e in exact]
    owed = whole_minor - sum(floors)
    with_remainder = sum(1 for e, f in zip(exact, floors, strict=True) if e != f)
    if not 0 <= owed <= with_remainder:
        raise PricingError("amounts", f"{whole_minor} minor units cannot be spread over these parts")
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:owed]:
        floors[i] += 1
    return floors
