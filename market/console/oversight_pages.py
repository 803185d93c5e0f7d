"""Statistics (trade volume and value by category and period, computed in SQL by the orders
feature, charted with the vendored uPlot, exported as CSV) and the price authority's guided
catalogue (published, superseded and withdrawn through `catalog.price_catalogue`)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from market.catalog import price_catalogue
from market.catalog.schemas import PriceEntryCreate, Withdrawal
from market.console.audit_pages import script_json
from market.console.operator_pages import fail
from market.console.web import Console
from market.db.session import Session
from market.errors import MarketError
from market.orders import service as orders
from market.orders.schemas import TradeTotals
from pricing.units import Unit

router = APIRouter(include_in_schema=False)

OVERSEERS = ("operator", "auditor", "price_authority")
Period = Annotated[str, Query(pattern="^(day|month|year)$")]


def chart_data(rows: list[TradeTotals]) -> dict[str, Any]:
    """uPlot's columns: the periods, then per category one series of value (yuan, as decimal
    strings: the browser makes them numbers only to draw) and one of trade counts."""
    periods = sorted({r.period for r in rows})
    categories = sorted({r.category for r in rows})
    minor: dict[str, list[int]] = {c: [0] * len(periods) for c in categories}
    trades: dict[str, list[int]] = {c: [0] * len(periods) for c in categories}
    for r in rows:
        i = periods.index(r.period)
        minor[r.category][i] += r.value_minor
        trades[r.category][i] += r.trades
    value = {c: [str((Decimal(m) / 100).quantize(Decimal("0.01"))) for m in ms] for c, ms in minor.items()}
    return {"periods": periods, "categories": categories, "value": value, "trades": trades}


@router.get("/console/stats", response_class=HTMLResponse)
async def stats(v: Console, session: Session, period: Period = "month") -> HTMLResponse:
    v.require(*OVERSEERS)
    rows = await orders.trade_totals(session, period=period, since=None, until=None)
    return v.render(
        "stats.html", rows=rows, period=period, chart_json=script_json(chart_data(rows)) if rows else None
    )


@router.get("/console/stats.csv")
async def stats_csv(v: Console, session: Session, period: Period = "month") -> Response:
    v.require(*OVERSEERS)
    rows = await orders.trade_totals(session, period=period, since=None, until=None)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(TradeTotals.model_fields))
    writer.writerows([getattr(r, f) for f in TradeTotals.model_fields] for r in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="trade-totals-{period}.csv"'},
    )


EXAMPLE_TIERS = json.dumps(
    [{"first_unit": 1, "last_unit": 100, "unit_price": "0"}, {"first_unit": 101, "unit_price": "1.00"}]
)


@router.get("/console/price-catalogue", response_class=HTMLResponse)
async def price_entries(v: Console, session: Session) -> HTMLResponse:
    v.require("price_authority", "operator", "auditor")
    rows = await price_catalogue.entries(session, in_force_only=False, data_class=None)
    units = [u.value for u in Unit]
    return v.render("price_catalogue.html", rows=rows, example_tiers=EXAMPLE_TIERS, units=units)


@router.post("/console/price-catalogue")
async def publish_entry(
    v: Console,
    csrf: Annotated[str, Form(max_length=200)],
    entry_key: Annotated[str, Form(max_length=80)],
    data_class: Annotated[str, Form(max_length=80)],
    unit: Annotated[str, Form(max_length=40)],
    mode: Annotated[str, Form(max_length=10)],
    tiers: Annotated[str, Form(max_length=8000)],
    effective_from: Annotated[str, Form(max_length=40)],
    legal_basis: Annotated[str, Form(max_length=500)],
    session: Session,
    band_up_pct: Annotated[str, Form(max_length=10)] = "",
    band_down_pct: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    principal = v.require("price_authority")
    v.check_csrf(csrf)
    back = "/console/price-catalogue"
    try:
        parsed_tiers = json.loads(tiers)
        started = datetime.fromisoformat(effective_from)
    except ValueError as exc:
        return v.redirect(back, flash=("error", f"tiers / effective_from: {exc}"))
    body: dict[str, Any] = {
        "entry_key": entry_key,
        "data_class": data_class,
        "unit": unit,
        "mode": mode,
        "tiers": parsed_tiers,
        # A date picked in the form is Beijing time unless it says otherwise.
        "effective_from": started if started.tzinfo else started.isoformat() + "+08:00",
        "legal_basis": legal_basis,
    }
    if band_up_pct:
        body["band_up_pct"] = band_up_pct
    if band_down_pct:
        body["band_down_pct"] = band_down_pct
    try:
        data = PriceEntryCreate.model_validate(body)  # the API's request model and its rules
    except ValidationError as exc:
        first = exc.errors()[0]
        return v.redirect(back, flash=("error", f"{'.'.join(map(str, first['loc']))}: {first['msg']}"))
    try:
        await price_catalogue.publish(session, principal, data)
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", entry_key))


@router.post("/console/price-catalogue/{entry_key}/withdrawal")
async def withdraw_entry(
    v: Console,
    entry_key: str,
    csrf: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    session: Session,
) -> Response:
    principal = v.require("price_authority")
    v.check_csrf(csrf)
    back = "/console/price-catalogue"
    try:
        data = Withdrawal(reason=reason)
    except ValidationError as exc:
        return v.redirect(back, flash=("error", f"{v.t('reason')}: {exc.errors()[0]['msg']}"))
    try:
        await price_catalogue.withdraw(session, principal, entry_key, data)
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", entry_key))
