"""Participants: their own resources and registrations with certificates, products and listings,
orders, licences (with their files to download and their API usage), webhook endpoints and API
keys, read through each feature's own scoping (`readable(principal)`, `get_order`,
`visible_licence`), so a participant sees exactly what the API would show them, and another
participant's order or licence is "not found" here as there."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.catalog import products
from market.console import participant_queries, repository
from market.console.audit_pages import script_json
from market.console.operator_pages import fail
from market.console.web import Console, ConsoleForbidden, Visitor
from market.db.session import Session
from market.delivery import service as delivery
from market.downloads import service as downloads
from market.errors import MarketError, NotFound
from market.gateway import service as gateway
from market.gateway.schemas import UsageOut
from market.notifications import service as notifications
from market.orders import service as orders
from market.participants import service as participants
from market.registry import repository as registry

router = APIRouter(include_in_schema=False)

# How many API licences the overview's usage chart adds up (a participant with more sees each
# one's own chart on its licence page).
USAGE_LICENCES = 20


def participant(v: Visitor, *roles: str) -> Principal:
    """The logged-in participant's user, holding one of `roles` if any are named (staff work in
    their own pages: 403 here)."""
    principal = v.require(*roles)
    if principal.participant_id is None:
        raise ConsoleForbidden("participant")
    return principal


def private(page: HTMLResponse) -> HTMLResponse:
    """A page of one participant's own data: no cache keeps it (a shared computer's browser)."""
    page.headers["Cache-Control"] = "private, no-store"
    return page


def not_found(v: Visitor, exc: MarketError) -> HTMLResponse:
    """The refusal of a read as a page with the API's status: "not found" (not theirs, or not
    there), or why a licence cannot be used now (410: revoked, expired, suspended)."""
    heading = v.t("not_found") if exc.status == 404 else v.t("licence_unusable")
    return v.render("error.html", status_code=exc.status, heading=heading, message=exc.message)


async def refuse(v: Visitor, session: AsyncSession, exc: MarketError, back: str) -> Response:
    """A service's refusal of a form: what is not theirs (or not there) is a 404 page, as the
    API's; any other refusal goes back to the form's page saying why. Nothing is kept either way
    (unless the refusal keeps its record)."""
    if exc.status == 404:
        await session.rollback()
        return not_found(v, exc)
    return await fail(v, session, exc, back)


def usage_chart(days: dict[date, tuple[int, int]]) -> dict[str, Any]:
    """uPlot's columns for calls and failed calls by day (oldest first)."""
    ordered = sorted(days)
    return {
        "days": [d.isoformat() for d in ordered],
        "calls": [days[d][0] for d in ordered],
        "failed": [days[d][1] for d in ordered],
    }


def add_usage(total: dict[date, tuple[int, int]], usage: UsageOut) -> None:
    for d in usage.days:
        calls, failed = total.get(d.day, (0, 0))
        total[d.day] = (calls + d.calls, failed + d.failed_calls)


@router.get("/console/me", response_class=HTMLResponse)
async def my_exchange(v: Console, session: Session) -> HTMLResponse:
    principal = v.require()
    if principal.participant_id is None:  # staff work in their own pages
        return v.render("error.html", status_code=403, heading=v.t("forbidden"), message=v.t("forbidden"))
    caller = await participants.caller_participant(session, principal)
    licences = await participant_queries.licences_with_products(session, principal.participant_id)
    usage: dict[date, tuple[int, int]] = {}
    api_licences = [lic for lic, product in licences if product.delivery_mode == "api"]
    for lic in api_licences[:USAGE_LICENCES]:
        add_usage(usage, await gateway.usage(session, principal, lic.id))
    return private(
        v.render(
            "me.html",
            participant=caller,
            resources=await registry.resources_page(session, principal, None, 100),
            registrations=await repository.registrations_of_participant(session, principal.participant_id),
            products=await products.page(session, principal, None, 100),
            orders=await orders.page(session, principal, role=None, status=None, cursor=None, limit=100),
            licences=licences,
            endpoints=await notifications.list_endpoints(session, principal),
            keys=await participants.list_api_keys(session, principal),
            usage_json=script_json(usage_chart(usage)) if usage else None,
            has_api_licences=bool(api_licences),
            roles=sorted(principal.roles),
        )
    )


@router.get("/console/me/orders/{order_id}", response_class=HTMLResponse)
async def my_order(v: Console, session: Session, order_id: uuid.UUID) -> HTMLResponse:
    principal = participant(v)
    try:
        order = await orders.get_order(session, principal, order_id)
    except NotFound as exc:
        return not_found(v, exc)
    product = await products.find(session, order.product_id)
    return private(v.render("my_order.html", order=order, product=product))


@router.get("/console/me/licences/{licence_id}", response_class=HTMLResponse)
async def my_licence(v: Console, session: Session, licence_id: uuid.UUID) -> HTMLResponse:
    principal = participant(v)
    try:
        licence = await delivery.visible_licence(session, principal, licence_id)
    except NotFound as exc:
        return not_found(v, exc)
    product = await products.find(session, licence.product_id)
    assert product is not None, "a licence's product is never deleted"
    files: downloads.Delivered | None = None
    unusable: str | None = None
    if product.delivery_mode == "file" and licence.buyer_id == principal.participant_id:
        try:
            files = await downloads.delivered(session, principal, licence.id)
        except MarketError as exc:  # revoked, expired, suspended: the page says why
            unusable = exc.message
    usage = None
    usage_json = None
    if product.delivery_mode == "api":
        usage = await gateway.usage(session, principal, licence.id)
        days: dict[date, tuple[int, int]] = {}
        add_usage(days, usage)
        usage_json = script_json(usage_chart(days)) if days else None
    return private(
        v.render(
            "my_licence.html",
            licence=licence,
            product=product,
            files=files,
            completed=await downloads.completed_downloads(session, licence.id) if files else 0,
            unusable=unusable,
            usage=usage,
            usage_json=usage_json,
        )
    )


@router.get("/console/me/licences/{licence_id}/files/{file_id}")
async def download_file(v: Console, session: Session, licence_id: uuid.UUID, file_id: uuid.UUID) -> Response:
    """The download button: the buyer (by their console session) is sent on to a fresh signed
    URL of the API's download (`market.downloads`), which streams the file and records the
    completed download as it does for any client."""
    principal = participant(v)
    try:
        (await downloads.delivered(session, principal, licence_id)).file(file_id)
    except MarketError as exc:
        return not_found(v, exc)
    path, _expires = downloads.signed_path(v.settings, licence_id, file_id)
    response = v.redirect(path)
    response.headers["Cache-Control"] = "no-store"
    return response
