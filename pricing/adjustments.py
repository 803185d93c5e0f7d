"""The lines a quote adds to the plan's price: the guided clamp (Art. 65) and the lawful
discounts (Art. 70), each rounded once to the fen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from pricing.allocation import AllocationWin
from pricing.catalogue import GuidedPriceEntry
from pricing.discounts import Discount, NewCustomerDiscount, RandomAllocationDiscount, VolumeDiscount
from pricing.money import Money
from pricing.plans import PricePlan


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
    description_zh: str = ""

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


def pct_of(minor: int, pct: Decimal, currency: str) -> int:
    return Money.from_minor(minor, currency).times(pct / 100).minor_units


def adjust(code: str, description: str, minor: int, cur: str, reason: str) -> QuoteLine:
    return QuoteLine(
        code=code,
        description=description,
        quantity=1,
        unit_price=Decimal(0),
        amount_minor=minor,
        currency=cur,
        reason=reason,
    )


def guided_clamp(
    entry: GuidedPriceEntry, prior: int, quantity: int, subtotal: int, cur: str
) -> tuple[QuoteLine | None, int]:
    """A line bringing the subtotal into [floor, ceiling] of the entry for units `prior + 1` ..
    `prior + quantity`, and the floor (Art. 65)."""
    low, high = entry.slice_bounds_minor(prior, quantity)
    cite = f"entry {entry.entry_id} v{entry.version} ({entry.legal_basis}; Art. 65)"
    if subtotal > high:
        limit = "ceiling" if entry.mode == "ceiling" else "band top"
        reason = f"capped at the guided {limit} {Money.from_minor(high, cur)} of {cite}"
        return adjust("guided_cap", f"guided {limit}", high - subtotal, cur, reason), low
    if subtotal < low:
        reason = f"raised to the guided band floor {Money.from_minor(low, cur)} of {cite}"
        return adjust("guided_floor", "guided band floor", low - subtotal, cur, reason), low
    return None, low


def _applies(
    discount: Discount, at: datetime, quantity: int, is_new_customer: bool, win: AllocationWin | None
) -> bool:
    if isinstance(discount, NewCustomerDiscount):
        return discount.applies(at, is_new_customer)
    if isinstance(discount, VolumeDiscount):
        return quantity >= discount.min_quantity
    # Only the exchange's verified draw under this plan's published rule (Art. 70).
    return win is not None and win.rule == discount.rule


def _reason(discount: Discount, win: AllocationWin | None) -> str:
    if isinstance(discount, NewCustomerDiscount):
        return f"new-customer discount {discount.pct}% until {discount.valid_to.date()} (Art. 70)"
    if isinstance(discount, VolumeDiscount):
        return f"volume discount {discount.pct}% from {discount.min_quantity} units (Art. 70)"
    assert isinstance(discount, RandomAllocationDiscount) and win is not None
    drawn = win.result.announcement
    return (
        f"random-allocation discount {discount.pct}% under published rule {discount.rule}: won draw "
        f"{drawn.draw_id} (commitment {drawn.commitment[:16]}…, seed revealed) (Art. 70)"
    )


def apply_discounts(
    plan: PricePlan,
    *,
    at: datetime,
    quantity: int,
    is_new_customer: bool,
    allocation_win: AllocationWin | None,
    running: int,
    floor: int,
) -> list[QuoteLine]:
    """The lawful discounts that apply, never below `floor`. They are percentages of the same
    base, so their order cannot matter."""
    cur, base, lines = plan.currency, running, []
    for discount in plan.discounts:
        if not _applies(discount, at, quantity, is_new_customer, allocation_win):
            continue
        cut = min(pct_of(base, discount.pct, cur), max(0, running - floor))
        if cut <= 0:
            continue
        reason = _reason(discount, allocation_win)
        if cut < pct_of(base, discount.pct, cur):
            reason += "; limited by the guided band floor (Art. 65)"
        lines.append(adjust(discount.kind, f"{discount.kind.replace('_', ' ')} discount", -cut, cur, reason))
        running -= cut
    return lines
