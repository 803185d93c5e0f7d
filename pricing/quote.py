"""`quote`: plan + guided entry (if any) + buyer facts -> an itemised, explained, expiring quote.

Deterministic: the same inputs give the same quote. Every line is rounded once, half-up to the
fen, and the total is the exact sum of the lines.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pricing.catalogue import GuidedPriceEntry
from pricing.errors import PricingError
from pricing.money import Money
from pricing.plans import PricePlan, VolumeDiscount, plan_total

LAWFUL_DISCOUNT_CODES = frozenset({"new_customer", "volume", "random_allocation"})


class BuyerFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str
    quantity: int = Field(ge=1)
    is_new_customer: bool = False
    lottery_won: bool = False
    at: AwareDatetime


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    description: str
    quantity: int
    unit_price: str
    amount_minor: int
    reason: str


class Quote(BaseModel):
    model_config = ConfigDict(frozen=True)

    lines: tuple[QuoteLine, ...]
    subtotal_minor: int
    total_minor: int
    currency: str
    quantity: int
    purpose: str
    plan_version: int
    entry_key: str | None
    entry_version: int | None
    issued_at: AwareDatetime
    expires_at: AwareDatetime

    def canonical_json(self) -> str:
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @property
    def discount_codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.lines if line.code in LAWFUL_DISCOUNT_CODES)


def _minor(amount: Decimal, currency: str) -> int:
    return Money(amount, currency).minor_units


def quote(
    plan: PricePlan,
    entry: GuidedPriceEntry | None,
    facts: BuyerFacts,
    *,
    validity: timedelta = timedelta(minutes=30),
) -> Quote:
    cur = plan.currency
    if entry is not None and entry.currency != cur:
        raise PricingError("currency", f"plan is in {cur} but the guided entry in {entry.currency}")
    lines = [
        QuoteLine(
            code=b.code,
            description=b.description,
            quantity=b.quantity,
            unit_price=str(b.unit_price),
            amount_minor=_minor(b.amount, cur),
            reason=f"price plan v{plan.plan_version} ({plan.kind})",
        )
        for b in plan.base_lines(facts.quantity)
    ]
    subtotal = sum(line.amount_minor for line in lines)
    running = subtotal
    reduction = entry.reduction_for(facts.purpose) if entry is not None else Decimal(0)
    if entry is not None and reduction > 0:
        cut = (
            subtotal
            if reduction >= 100
            else Money.from_minor(subtotal, cur).times(reduction / 100).minor_units
        )
        kind = "free" if reduction >= 100 else f"reduced {reduction}%"
        lines.append(
            QuoteLine(
                code="purpose_exemption",
                description=f"purpose {facts.purpose}: {kind}",
                quantity=1,
                unit_price="0",
                amount_minor=-cut,
                reason=f"{facts.purpose} use is {kind} under {entry.legal_basis} (Art. 65)",
            )
        )
        running -= cut
    for discount in plan.discounts:
        applies = (
            (discount.kind == "new_customer" and discount.applies(facts.at, facts.is_new_customer))
            or (isinstance(discount, VolumeDiscount) and facts.quantity >= discount.min_quantity)
            or (discount.kind == "random_allocation" and facts.lottery_won)
        )
        if not applies or running <= 0:
            continue
        cut = min(
            running,
            Money.from_minor(subtotal, cur).times(discount.pct / 100).minor_units,
        )
        lines.append(
            QuoteLine(
                code=discount.kind,
                description=f"{discount.kind.replace('_', ' ')} discount {discount.pct}%",
                quantity=1,
                unit_price="0",
                amount_minor=-cut,
                reason=f"lawful {discount.kind.replace('_', '-')} discount (Art. 70)",
            )
        )
        running -= cut
    total = sum(line.amount_minor for line in lines)
    if entry is not None and reduction == 0:
        low, high = entry.bounds(facts.quantity)
        if not _minor(low, cur) <= total <= _minor(high, cur):
            raise PricingError(
                "price_plan",
                f"the quote {Money.from_minor(total, cur)} leaves the guided range "
                f"[{Money(low, cur).rounded()}, {Money(high, cur).rounded()}] of entry "
                f"{entry.entry_key} v{entry.version} (Art. 65)",
            )
    return Quote(
        lines=tuple(lines),
        subtotal_minor=subtotal,
        total_minor=total,
        currency=cur,
        quantity=facts.quantity,
        purpose=facts.purpose,
        plan_version=plan.plan_version,
        entry_key=entry.entry_key if entry else None,
        entry_version=entry.version if entry else None,
        issued_at=facts.at,
        expires_at=facts.at + validity,
    )


class PlanViolation(BaseModel):
    field: str
    reason: str
    entry_key: str
    entry_version: int
    quantity: int
    limit: str


def _checkpoints(plan: PricePlan, entry: GuidedPriceEntry) -> list[int]:
    points = {1, 1_000_000}
    tiers = list(entry.tiers) + list(getattr(plan, "tiers", ()))
    for t in tiers:
        points |= {t.first_unit - 1, t.first_unit, t.first_unit + 1}
        if t.last_unit is not None:
            points |= {t.last_unit, t.last_unit + 1}
    included = getattr(plan, "included_units", 0)
    points |= {included, included + 1}
    for d in plan.discounts:
        if isinstance(d, VolumeDiscount):
            points |= {d.min_quantity - 1, d.min_quantity}
    return sorted(p for p in points if p >= 1)


def validate_plan_against_entry(plan: PricePlan, entry: GuidedPriceEntry) -> list[PlanViolation]:
    """Every volume at which a paid-public-data plan leaves the guided band or ceiling (Art. 65).

    Totals are piecewise linear between tier boundaries, so checking every boundary (and its
    neighbours) checks every volume. Discounts are taken at their deepest combined cut.
    """
    found: list[PlanViolation] = []
    if plan.currency != entry.currency:
        return [
            PlanViolation(
                field="price_plan.currency",
                reason="currency differs from the entry",
                entry_key=entry.entry_key,
                entry_version=entry.version,
                quantity=0,
                limit=entry.currency,
            )
        ]
    deepest = min(Decimal(100), sum((d.pct for d in plan.discounts), Decimal(0)))
    for q in _checkpoints(plan, entry):
        total = plan_total(plan, q)
        low, high = entry.bounds(q)
        if total > high:
            found.append(
                PlanViolation(
                    field="price_plan",
                    quantity=q,
                    limit=str(Money(high, entry.currency).rounded()),
                    entry_key=entry.entry_key,
                    entry_version=entry.version,
                    reason=f"at {q} units the plan charges "
                    f"{Money(total, plan.currency).rounded()}, above "
                    f"the {'ceiling' if entry.mode == 'ceiling' else 'band top'} "
                    f"{Money(high, entry.currency).rounded()}",
                )
            )
        if total * (100 - deepest) / 100 < low:
            found.append(
                PlanViolation(
                    field="price_plan",
                    quantity=q,
                    limit=str(Money(low, entry.currency).rounded()),
                    entry_key=entry.entry_key,
                    entry_version=entry.version,
                    reason=f"at {q} units the plan (after discounts) charges below the band floor "
                    f"{Money(low, entry.currency).rounded()}",
                )
            )
        if len(found) >= 5:
            break
    return found
