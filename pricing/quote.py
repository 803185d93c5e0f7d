"""`quote`: plan + guided entry (if any) + buyer facts -> an itemised, explained, expiring quote.

Deterministic: the same inputs give an equal quote with the same digest. The plan's exact
total is rounded once, half-up to the fen (`round_half_up_to_minor`), and spread over its lines
by largest remainder (`round_parts`); each adjustment is rounded once; the total is the exact
sum of the lines.

Within an accumulation window (`pricing.windows`) the order prices units `prior_units + 1` ..
`prior_units + quantity` of the counterparty's window, and what is rounded once is the
window's running total (`running_minor`): so N units bought at once cost exactly what they
cost over any number of orders in one window, to the fen.

Order of lines: the plan's base lines; for paid public data a clamp into the guided band or
under the ceiling (Art. 65); the purpose rule of the entry (free or reduced, Art. 65); the
lawful discounts (Art. 70), never taking a guided price below its floor.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from pricing.adjustments import QuoteLine, adjust, apply_discounts, guided_clamp, pct_of
from pricing.allocation import AllocationWin
from pricing.catalogue import GuidedPriceEntry
from pricing.errors import PricingError
from pricing.money import Money, round_parts, round_parts_to, running_minor
from pricing.plans import PricePlan, cumulative_total
from pricing.types import UtcDatetime
from pricing.units import Unit
from pricing.windows import AccumulationWindow, WindowSpan, WindowUsage, window_span

LAWFUL_DISCOUNT_CODES = frozenset({"new_customer", "volume", "random_allocation"})


class BuyerFacts(BaseModel):
    """What the exchange knows about this purchase when pricing it. Every field comes from the
    exchange's own records, never from the buyer's request: `prior_units` from the paid,
    unrefunded units in the window; `allocation_win` from the exchange's revealed draw (a
    buyer's "I won" is not a field, so it cannot be passed; Art. 70)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str = Field(min_length=1, max_length=80)
    quantity: int = Field(ge=1)
    is_new_customer: bool = False
    prior_units: int = Field(default=0, ge=0)
    allocation_win: AllocationWin | None = None
    at: UtcDatetime


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
    unit: Unit | None = None
    window: WindowUsage | None = None

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


def effective_window(plan: PricePlan, entry: GuidedPriceEntry | None) -> AccumulationWindow:
    """The entry's window for paid public data (a plan may repeat it, not change it), else the
    plan's own, else per order. Raises PricingError naming the field when they disagree."""
    declared = plan.accumulation
    if entry is not None:
        if declared is not None and declared != entry.accumulation:
            raise PricingError(
                "price_plan.accumulation",
                f"the plan accumulates {declared.value} but its guided entry {entry.accumulation.value}",
            )
        declared = entry.accumulation
    window = declared or AccumulationWindow.PER_ORDER
    if window.accumulates and plan.marginal_schedule() is None:
        raise PricingError(
            "price_plan.kind",
            f"a {plan.kind} plan cannot price units marginally within a {window.value} window",
        )
    return window


def effective_unit(plan: PricePlan, entry: GuidedPriceEntry | None) -> Unit | None:
    if entry is not None and plan.unit is not None and plan.unit != entry.unit:
        raise PricingError(
            "price_plan.unit", f"the plan counts {plan.unit.plural}, its entry {entry.unit.plural}"
        )
    return plan.unit or (entry.unit if entry is not None else None)


def _base_lines(
    plan: PricePlan, unit: Unit | None, span: WindowSpan | None, prior: int, quantity: int
) -> list[QuoteLine]:
    cur = plan.currency
    base = plan.lines(prior, quantity, unit, span)
    exact = [b.amount for b in base]
    if span is None:
        rounded = round_parts(exact, cur)  # the order's exact total rounded once
    else:
        owed = running_minor(cumulative_total(plan, prior), cumulative_total(plan, prior + quantity), cur)
        rounded = round_parts_to(exact, cur, owed)
    return [
        QuoteLine(
            code=b.code,
            description=b.description,
            quantity=b.quantity,
            unit_price=b.unit_price,
            amount_minor=minor,
            currency=cur,
            reason=b.reason,
            description_zh=b.description_zh,
        )
        for b, minor in zip(base, rounded, strict=True)
    ]


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
    band / under the ceiling for these units of the window (after the purpose rule); exempt
    purposes pay zero; only the lawful Art. 70 discounts apply, random allocation only with the
    exchange's verified win under the plan's rule. Raises PricingError on a currency, unit or
    window mismatch or a bad validity.
    """
    cur = plan.currency
    if entry is not None and entry.currency != cur:
        raise PricingError("currency", f"plan is in {cur} but the guided entry in {entry.currency}")
    if validity <= timedelta(0):
        raise PricingError("validity", "a quote must be valid for a positive time")
    unit, window = effective_unit(plan, entry), effective_window(plan, entry)
    span = window_span(window, facts.at)
    prior = facts.prior_units if span is not None else 0  # per order nothing carries over
    lines = _base_lines(plan, unit, span, prior, facts.quantity)
    subtotal = sum(line.amount_minor for line in lines)
    running, floor = subtotal, 0
    exempt = False
    if entry is not None:
        clamp, floor = guided_clamp(entry, prior, facts.quantity, subtotal, cur)
        if clamp is not None:
            lines.append(clamp)
            running += clamp.amount_minor
        reduction = entry.reduction_for(facts.purpose)
        if reduction > 0:
            exempt = reduction >= 100
            cut = running if exempt else pct_of(running, reduction, cur)
            what = (
                f"exempt purpose {facts.purpose}"
                if exempt
                else f"reduced purpose {facts.purpose} {reduction}%"
            )
            code = "purpose_exemption" if exempt else "purpose_reduction"
            lines.append(adjust(code, what, -cut, cur, f"{what} ({entry.legal_basis}; Art. 65)"))
            running -= cut
            floor = pct_of(floor, 100 - reduction, cur)
    discount_lines = apply_discounts(
        plan,
        at=facts.at,
        quantity=facts.quantity,
        is_new_customer=facts.is_new_customer,
        allocation_win=facts.allocation_win,
        running=running,
        floor=floor,
    )
    lines.extend(discount_lines)
    running += sum(line.amount_minor for line in discount_lines)
    total = sum(line.amount_minor for line in lines)
    assert total == running  # the lines are the price: nothing outside them
    usage = None
    if span is not None:
        usage = WindowUsage(
            window=window,
            key=span.key,
            starts_at=span.starts_at,
            ends_at=span.ends_at,
            prior_units=prior,
            units=0 if exempt else facts.quantity,  # a free purpose uses none of the buyer's tiers
        )
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
        unit=unit,
        window=usage,
    )
