"""`quote`: plan + guided entry (if any) + buyer facts -> an itemised, explained, expiring quote.

Deterministic: the same inputs give an equal quote with the same digest. The plan's exact
total is rounded once, half-up to the fen (`round_half_up_to_minor`), and spread over its lines
by largest remainder (`round_parts`); each adjustment is rounded once; the total is the exact
sum of the lines.

Order of lines: the plan's base lines; for paid public data a clamp into the guided band or
under the ceiling (Art. 65); the purpose rule of the entry (free or reduced, Art. 65); the
lawful discounts (Art. 70), never taking a guided price below its floor.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pricing.catalogue import GuidedPriceEntry
from pricing.discounts import Discount, NewCustomerDiscount, RandomAllocationDiscount, VolumeDiscount
from pricing.errors import PricingError
from pricing.money import Money, round_parts
from pricing.plans import PricePlan
from pricing.types import UtcDatetime

LAWFUL_DISCOUNT_CODES = frozenset({"new_customer", "volume", "random_allocation"})


class BuyerFacts(BaseModel):
    """What the exchange knows about this purchase when pricing it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str = Field(min_length=1, max_length=80)
    quantity: int = Field(ge=1)
    is_new_customer: bool = False
    lottery_won: bool = False
    at: UtcDatetime


class QuoteLine(BaseModel):
    """One itemised line; `amount_minor` is signed (discounts are negative)."""

    model_config = ConfigDict(frozen=True)

    code: str
    description: str
    quantity: int
    unit_price: Decimal
    amount_minor: int
    currency: str
    reason: str

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Quote(BaseModel):
    model_config = ConfigDict(frozen=True)

    lines: tuple[QuoteLine, ...]
    subtotal_minor: int
    total_minor: int
    currency: str
    quantity: int
    purpose: str
    plan_kind: str
    plan_version: int
    entry_id: str | None
    entry_version: int | None
    issued_at: UtcDatetime
    expires_at: UtcDatetime

    @property
    def total(self) -> Money:
        return Money.from_minor(self.total_minor, self.currency)

    @property
    def entry_key(self) -> str | None:
        """The older name of `entry_id`, kept for callers written against it."""
        return self.entry_id

    @property
    def discount_codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.lines if line.code in LAWFUL_DISCOUNT_CODES)

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace, Decimals and datetimes as strings: the digest's input."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def digest(self) -> str:
        """SHA-256 hex of `canonical_json()`, for the service's tamper-evident seal."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _minor(amount: Decimal, currency: str) -> int:
    return Money(amount, currency).minor_units


def _pct_of(minor: int, pct: Decimal, currency: str) -> int:
    return Money.from_minor(minor, currency).times(pct / 100).minor_units


def _adjust(code: str, description: str, minor: int, cur: str, reason: str) -> QuoteLine:
    return QuoteLine(
        code=code,
        description=description,
        quantity=1,
        unit_price=Decimal(0),
        amount_minor=minor,
        currency=cur,
        reason=reason,
    )


def _discount_applies(discount: Discount, facts: BuyerFacts) -> bool:
    if isinstance(discount, NewCustomerDiscount):
        return discount.applies(facts.at, facts.is_new_customer)
    if isinstance(discount, VolumeDiscount):
        return facts.quantity >= discount.min_quantity
    return facts.lottery_won


def _discount_reason(discount: Discount) -> str:
    if isinstance(discount, NewCustomerDiscount):
        return f"new-customer discount {discount.pct}% until {discount.valid_to.date()} (Art. 70)"
    if isinstance(discount, VolumeDiscount):
        return f"volume discount {discount.pct}% from {discount.min_quantity} units (Art. 70)"
    assert isinstance(discount, RandomAllocationDiscount)
    rule = discount.rule_id or discount.rule_url
    return f"random-allocation discount {discount.pct}% under published rule {rule} (Art. 70)"


def _guided_clamp(
    entry: GuidedPriceEntry, quantity: int, subtotal: int, cur: str
) -> tuple[QuoteLine | None, int]:
    """A line bringing the subtotal into [floor, ceiling] of the entry, and the floor (Art. 65)."""
    low, high = (_minor(b, cur) for b in entry.bounds(quantity))
    cite = f"entry {entry.entry_id} v{entry.version} ({entry.legal_basis}; Art. 65)"
    if subtotal > high:
        limit = "ceiling" if entry.mode == "ceiling" else "band top"
        reason = f"capped at the guided {limit} {Money.from_minor(high, cur)} of {cite}"
        return _adjust("guided_cap", f"guided {limit}", high - subtotal, cur, reason), low
    if subtotal < low:
        reason = f"raised to the guided band floor {Money.from_minor(low, cur)} of {cite}"
        return _adjust("guided_floor", "guided band floor", low - subtotal, cur, reason), low
    return None, low


def quote(
    plan: PricePlan,
    entry: GuidedPriceEntry | None,
    facts: BuyerFacts,
    *,
    validity: timedelta = timedelta(minutes=30),
) -> Quote:
    """Price `facts.quantity` units of `plan` for this buyer; `entry` is the guided price in
    force for paid public data (Art. 65), None for autonomously priced data.

    Promises: total == sum of lines to the fen; with an entry the total stays inside the
    band / under the ceiling (after the purpose rule); exempt purposes pay zero; only the
    lawful Art. 70 discounts apply. Raises PricingError on a currency mismatch or bad validity.
    """
    cur = plan.currency
    if entry is not None and entry.currency != cur:
        raise PricingError("currency", f"plan is in {cur} but the guided entry in {entry.currency}")
    if validity <= timedelta(0):
        raise PricingError("validity", "a quote must be valid for a positive time")
    base_lines = plan.base_lines(facts.quantity)
    # Rounded together so the subtotal is the plan's exact total rounded once (no drift).
    rounded = round_parts([b.amount for b in base_lines], cur)
    lines = [
        QuoteLine(
            code=b.code,
            description=b.description,
            quantity=b.quantity,
            unit_price=b.unit_price,
            amount_minor=minor,
            currency=cur,
            reason=b.reason,
        )
        for b, minor in zip(base_lines, rounded, strict=True)
    ]
    subtotal = sum(line.amount_minor for line in lines)
    running, floor = subtotal, 0
    if entry is not None:
        clamp, floor = _guided_clamp(entry, facts.quantity, subtotal, cur)
        if clamp is not None:
            lines.append(clamp)
            running += clamp.amount_minor
        reduction = entry.reduction_for(facts.purpose)
        if reduction > 0:
            cut = running if reduction >= 100 else _pct_of(running, reduction, cur)
            what = (
                f"exempt purpose {facts.purpose}"
                if reduction >= 100
                else (f"reduced purpose {facts.purpose} {reduction}%")
            )
            lines.append(
                _adjust(
                    "purpose_exemption" if reduction >= 100 else "purpose_reduction",
                    what,
                    -cut,
                    cur,
                    f"{what} ({entry.legal_basis}; Art. 65)",
                )
            )
            running -= cut
            floor = _pct_of(floor, 100 - reduction, cur)
    # Discounts are additive percentages of the same base, so their order cannot matter.
    base = running
    for discount in plan.discounts:
        if not _discount_applies(discount, facts):
            continue
        cut = min(_pct_of(base, discount.pct, cur), max(0, running - floor))
        if cut <= 0:
            continue
        reason = _discount_reason(discount)
        if cut < _pct_of(base, discount.pct, cur):
            reason += "; limited by the guided band floor (Art. 65)"
        lines.append(_adjust(discount.kind, f"{discount.kind.replace('_', ' ')} discount", -cut, cur, reason))
        running -= cut
    total = sum(line.amount_minor for line in lines)
    assert total == running  # the lines are the price: nothing outside them
    return Quote(
        lines=tuple(lines),
        subtotal_minor=subtotal,
        total_minor=total,
        currency=cur,
        quantity=facts.quantity,
        purpose=facts.purpose,
        plan_kind=plan.kind,
        plan_version=plan.plan_version,
        entry_id=entry.entry_id if entry else None,
        entry_version=entry.version if entry else None,
        issued_at=facts.at,
        expires_at=facts.at + validity,
    )
