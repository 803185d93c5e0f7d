"""Does a seller's plan for paid public data stay inside its guided entry at every volume?

Jilin Big Data Regulation Art. 65: paid public data is priced under government guidance, so a
plan is checked against the entry before it is listed (the quote clamps as a second line of
defence, but a plan that needs clamping is refused up front with reasons).

Per order with flat tails, totals are compared at every volume where either side changes
slope. Where units accumulate over a window, or either side rises band by band, any run of
units `prior + 1` .. `prior + n` can be one order, so each unit's price is compared
(`pricing.schedules`), which also bounds every total.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from pricing.catalogue import GuidedPriceEntry
from pricing.discounts import VolumeDiscount
from pricing.errors import PricingError
from pricing.money import Money
from pricing.plans import MeteredPlan, PricePlan, TieredPlan, plan_total
from pricing.schedules import first_unit_above
from pricing.tiers import price_at
from pricing.types import show_price


class PlanViolation(BaseModel):
    """Where and by how much a plan leaves its guided entry (Art. 65)."""

    field: str
    reason: str
    entry_id: str
    entry_version: int
    quantity: int
    limit: str

    @property
    def entry_key(self) -> str:
        return self.entry_id


def _breakpoints(plan: PricePlan, entry: GuidedPriceEntry) -> list[int]:
    """Every volume where a plan total or a bound changes slope or jumps, with neighbours.

    Between consecutive breakpoints both the plan's total and the entry's bounds are linear
    in the quantity, so a check at each end of each segment checks every volume in it.
    """
    points = {1}
    tiers = list(entry.tiers) + list(plan.tiers if isinstance(plan, TieredPlan) else ())
    for t in tiers:
        points |= {t.first_unit - 1, t.first_unit}
        if t.last_unit is not None:
            points |= {t.last_unit, t.last_unit + 1}
    if isinstance(plan, MeteredPlan):
        points |= {plan.included_units, plan.included_units + 1}
    for d in plan.discounts:
        if isinstance(d, VolumeDiscount):
            points |= {d.min_quantity - 1, d.min_quantity}
    return sorted(p for p in points if p >= 1)


def _deepest_pct(plan: PricePlan, quantity: int | None) -> Decimal:
    """The largest combined lawful discount a buyer of `quantity` units (None: an order of
    any size) could get."""
    total = sum(
        (
            d.pct
            for d in plan.discounts
            if not isinstance(d, VolumeDiscount) or quantity is None or quantity >= d.min_quantity
        ),
        Decimal(0),
    )
    return min(Decimal(100), total)


def _violation(entry: GuidedPriceEntry, field: str, quantity: int, limit: str, reason: str) -> PlanViolation:
    return PlanViolation(
        field=field,
        reason=f"{reason} (entry {entry.entry_id} v{entry.version}, {entry.legal_basis})",
        entry_id=entry.entry_id,
        entry_version=entry.version,
        quantity=quantity,
        limit=limit,
    )


def _unit_violation(
    entry: GuidedPriceEntry, unit: int, charged: Decimal, limit: Decimal, where: str
) -> PlanViolation:
    reason = f"unit {unit} costs {show_price(charged)}, {where} unit price {show_price(limit)}"
    return _violation(entry, "price_plan.unit_price", unit, show_price(limit), reason)


def _declared_mismatches(plan: PricePlan, entry: GuidedPriceEntry) -> list[PlanViolation]:
    """A plan may leave its unit and window to the entry, but may not declare others."""
    found = []
    if plan.unit is not None and plan.unit != entry.unit:
        found.append(
            _violation(
                entry,
                "price_plan.unit",
                0,
                entry.unit.value,
                f"the plan counts {plan.unit.plural}, the entry {entry.unit.plural}",
            )
        )
    if plan.accumulation is not None and plan.accumulation != entry.accumulation:
        found.append(
            _violation(
                entry,
                "price_plan.accumulation",
                0,
                entry.accumulation.value,
                f"the plan accumulates {plan.accumulation.value}, the entry {entry.accumulation.value}",
            )
        )
    return found


def needs_unit_by_unit(plan: PricePlan, entry: GuidedPriceEntry) -> bool:
    """Units accumulate over a window, or a tail rises band by band (see the module doc)."""
    plan_tiers = plan.tiers if isinstance(plan, TieredPlan) else ()
    windowed = entry.accumulation.accumulates or (
        plan.accumulation is not None and plan.accumulation.accumulates
    )
    return windowed or any(t.progressive for t in (*entry.tiers, *plan_tiers))


def _unit_by_unit(plan: PricePlan, entry: GuidedPriceEntry) -> list[PlanViolation]:
    schedule = plan.marginal_schedule()
    if schedule is None:
        return [
            _violation(
                entry,
                "price_plan.kind",
                0,
                "fixed, metered or graduated",
                f"a {plan.kind} plan has no price per unit to hold against an entry that accumulates "
                "or rises band by band; use a fixed, metered or graduated plan",
            )
        ]
    low, high = entry.factors()
    top = "ceiling" if entry.mode == "ceiling" else "band top"
    kept = (100 - _deepest_pct(plan, None)) / 100
    found = []
    try:
        above = first_unit_above(schedule, Decimal(1), entry.tiers, high)
        if above is not None:
            charged, limit = price_at(schedule, above), price_at(entry.tiers, above) * high
            found.append(_unit_violation(entry, above, charged, limit, f"above the guided {top}"))
        below = first_unit_above(entry.tiers, low, schedule, kept) if entry.mode == "band" else None
        if below is not None:
            charged, limit = price_at(schedule, below) * kept, price_at(entry.tiers, below) * low
            where = "after the plan's deepest discounts, below the guided floor"
            found.append(_unit_violation(entry, below, charged, limit, where))
    except PricingError as exc:
        found.append(_violation(entry, "price_plan.tiers", 0, "", exc.reason))
    return found


def validate_plan_against_entry(plan: PricePlan, entry: GuidedPriceEntry) -> list[PlanViolation]:
    """Every volume at which a paid-public-data plan leaves the guided band or goes above the
    ceiling (Art. 65), checked at each tier boundary and for the open-ended unit price.

    Discounts are taken at their deepest combination for each volume: a plan must not be able
    to dip under the band floor for any buyer. Empty list = the plan may be listed.
    """
    cur = entry.currency

    def violation(q: int, limit: Decimal, reason: str, field: str = "price_plan") -> PlanViolation:
        shown = str(Money(limit, cur).rounded()) if field == "price_plan" else show_price(limit)
        return _violation(entry, field, q, shown, reason)

    if plan.currency != cur:
        return [
            PlanViolation(
                field="price_plan.currency",
                reason=f"the plan is in {plan.currency}, the guided entry in {cur}",
                entry_id=entry.entry_id,
                entry_version=entry.version,
                quantity=0,
                limit=cur,
            )
        ]
    found: list[PlanViolation] = _declared_mismatches(plan, entry)
    if needs_unit_by_unit(plan, entry):
        return found + _unit_by_unit(plan, entry)
    top = "ceiling" if entry.mode == "ceiling" else "band top"
    points = _breakpoints(plan, entry)
    for q in points:
        total = plan_total(plan, q)
        low, high = entry.bounds(q)
        if total > high:
            found.append(
                violation(
                    q,
                    high,
                    f"at {q} units the plan charges {Money(total, cur).rounded()}, above the "
                    f"guided {top} {Money(high, cur).rounded()}",
                )
            )
        discounted = total * (100 - _deepest_pct(plan, q)) / 100
        if discounted < low:
            found.append(
                violation(
                    q,
                    low,
                    f"at {q} units the plan (after its deepest discounts) charges "
                    f"{Money(discounted, cur).rounded()}, below the guided band floor "
                    f"{Money(low, cur).rounded()}",
                )
            )
    # Past the last breakpoint both totals grow linearly: compare the marginal unit prices.
    q = points[-1] + 1
    plan_unit = plan_total(plan, q + 1) - plan_total(plan, q)
    low_unit = entry.bounds(q + 1)[0] - entry.bounds(q)[0]
    high_unit = entry.bounds(q + 1)[1] - entry.bounds(q)[1]
    if plan_unit > high_unit:
        found.append(
            violation(
                q,
                high_unit,
                f"above {q - 1} units each unit costs {show_price(plan_unit)}, above the guided "
                f"{top} unit price {show_price(high_unit)}",
                field="price_plan.unit_price",
            )
        )
    if plan_unit * (100 - _deepest_pct(plan, q)) / 100 < low_unit:
        found.append(
            violation(
                q,
                low_unit,
                f"above {q - 1} units each unit (after discounts) costs less than the guided "
                f"floor unit price {show_price(low_unit)}",
                field="price_plan.unit_price",
            )
        )
    return found
