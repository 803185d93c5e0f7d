"""Revenue caps (发改价格〔2025〕65号; pricing/revenue_caps.py): the price authority records each
authorised-operation product's maximum permitted revenue per Beijing calendar year; every
payment and refund of a public-data product moves its year's revenue under a row lock; the
exchange alerts at 80 % and at 100 % (sales go on: the notice's remedy is the deduction);
after the year ends the excess is carried into the next year's cap as a deduction (65号 四).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import products
from market.catalog.models import Product
from market.common.clock import now
from market.errors import NotFound
from market.revenue_caps import repository
from market.revenue_caps.models import RevenueCapRow, RevenueYear
from market.revenue_caps.schemas import CapOut, CapRecord
from pricing import BEIJING, CapThreshold, RevenueCap, close_year, revenue_position, threshold_crossings

# Authorised operation is of public data (65号): products on public resources are tracked.
TRACKED_CATEGORIES = frozenset({"public", "mixed"})
RULES = {
    CapThreshold.EARLY_WARNING: ("REVENUE-CAP-80", "medium"),
    CapThreshold.REACHED: ("REVENUE-CAP-100", "high"),
}


def beijing_year(at: datetime) -> int:
    return at.astimezone(BEIJING).year


def as_cap(row: RevenueCapRow) -> RevenueCap:
    return RevenueCap(
        product_ref=str(row.product_id),
        year=row.year,
        currency=row.currency,
        operating_cost_minor=row.operating_cost_minor,
        permitted_profit_minor=row.permitted_profit_minor,
        tax_minor=row.tax_minor,
        deduction_minor=row.deduction_minor,
        legal_basis=row.legal_basis,
    )


async def _close(session: AsyncSession, row: RevenueCapRow, *, actor: str) -> RevenueYear:
    """Close the cap's year: its excess (and any deduction it could not absorb) carried on."""
    year = await repository.lock_revenue_year(session, row.product_id, row.year, row.currency)
    if year.closed_at is not None:
        return year
    closed = close_year(as_cap(row), year.revenue_minor)
    year.closed_at, year.excess_minor = now(), closed.excess_minor
    year.carried_forward_minor = closed.carried_forward_minor
    await record(
        session,
        actor=actor,
        action="revenue_cap.year_closed",
        subject_type="product",
        subject_id=row.product_id,
        payload=closed.model_dump(mode="json"),
    )
    later = await repository.cap(session, row.product_id, row.year + 1, lock=True)
    if later is not None and later.deduction_minor != closed.carried_forward_minor:
        later.deduction_minor = closed.carried_forward_minor
        later.updated_at = now()
    return year


async def record_cap(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, year: int, data: CapRecord
) -> RevenueCapRow:
    """Record (or correct) a product's approved revenue for a year; the deduction is the excess
    the year before carried forward, closed now if that year has ended."""
    if await products.find(session, product_id) is None:
        raise NotFound("product not found", fields=[("path.product_id", "no such product")])
    before = await repository.cap(session, product_id, year - 1)
    carried = 0
    if before is not None and beijing_year(now()) > before.year:
        carried = (await _close(session, before, actor=principal.actor)).carried_forward_minor or 0
    row = await repository.cap(session, product_id, year, lock=True)
    if row is None:
        row = RevenueCapRow(product_id=product_id, year=year)
        session.add(row)
    row.currency = data.currency
    row.operating_cost_minor = data.operating_cost_minor
    row.permitted_profit_minor = data.permitted_profit_minor
    row.tax_minor = data.tax_minor
    row.deduction_minor = carried
    row.legal_basis = data.legal_basis
    row.recorded_by = principal.actor
    row.updated_at = now()
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="revenue_cap.recorded",
        subject_type="product",
        subject_id=product_id,
        payload=as_cap(row).model_dump(mode="json"),
    )
    return row


async def record_revenue(
    session: AsyncSession, product: Product, at: datetime, amount_minor: int, *, actor: str
) -> None:
    """A payment (positive) or refund (negative) of `amount_minor` for a sale made at `at`:
    the product-year's revenue moves, and each threshold it first reaches raises an alert."""
    if product.category not in TRACKED_CATEGORIES or amount_minor == 0:
        return
    year = beijing_year(at)
    row = await repository.lock_revenue_year(session, product.id, year, product.currency)
    revenue_before = row.revenue_minor
    row.revenue_minor += amount_minor
    cap_row = await repository.cap(session, product.id, year)
    if cap_row is None:
        return
    cap = as_cap(cap_row)
    for threshold in threshold_crossings(cap, revenue_before, amount_minor):
        rule, severity = RULES[threshold]
        what = "reached" if threshold is CapThreshold.REACHED else f"passed {int(threshold)} % of"
        evidence = {
            "product_id": str(product.id),
            "year": year,
            "revenue_minor": row.revenue_minor,
            "permitted_minor": cap.permitted_minor,
            "threshold_pct": int(threshold),
            "legal_basis": cap.legal_basis,
        }
        await raise_alert(
            session,
            Finding(
                rule=f"{rule}-{year}",  # one open alert per threshold, product and year
                severity=severity,
                summary=f"revenue of product {product.id} in {year} {what} its maximum permitted revenue",
                evidence=evidence,
            ),
            "product",
            str(product.id),
        )
        await record(
            session,
            actor=actor,
            action="revenue_cap.threshold_crossed",
            subject_type="product",
            subject_id=product.id,
            payload=evidence,
        )


async def close_due(session: AsyncSession) -> int:
    """Close every cap whose Beijing year has ended (the worker's daily job)."""
    due = await repository.unclosed_caps_before(session, beijing_year(now()))
    for row in due:
        await _close(session, row, actor="system")
    return len(due)


async def position(session: AsyncSession, product_id: uuid.UUID, year: int) -> CapOut:
    row = await repository.cap(session, product_id, year)
    if row is None:
        raise NotFound("no revenue cap is recorded for this product and year")
    return await cap_out(session, row)


async def cap_out(session: AsyncSession, row: RevenueCapRow) -> CapOut:
    year = await repository.revenue_year(session, row.product_id, row.year)
    cap = as_cap(row)
    pos = revenue_position(cap, year.revenue_minor if year else 0)
    return CapOut(
        product_id=row.product_id,
        year=row.year,
        currency=row.currency,
        operating_cost_minor=row.operating_cost_minor,
        permitted_profit_minor=row.permitted_profit_minor,
        tax_minor=row.tax_minor,
        deduction_minor=row.deduction_minor,
        approved_minor=cap.approved_minor,
        permitted_minor=pos.permitted_minor,
        revenue_minor=pos.revenue_minor,
        remaining_minor=pos.remaining_minor,
        excess_minor=pos.excess_minor,
        reached_pct=[int(t) for t in pos.reached],
        closed=bool(year and year.closed_at),
        carried_forward_minor=year.carried_forward_minor if year else None,
        legal_basis=row.legal_basis,
    )


async def caps_of_year(session: AsyncSession, year: int) -> list[CapOut]:
    return [await cap_out(session, r) for r in await repository.caps_of_year(session, year)]


async def year_figures(session: AsyncSession, product_id: uuid.UUID, year: int) -> tuple[int, CapOut | None]:
    """Fees charged for the product in the year (net of refunds) and its cap position, if any."""
    revenue = await repository.revenue_year(session, product_id, year)
    row = await repository.cap(session, product_id, year)
    return (revenue.revenue_minor if revenue else 0), (await cap_out(session, row) if row else None)
