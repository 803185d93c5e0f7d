"""Participants: their own resources and registrations with certificates, products and listings,
orders, licences, webhook endpoints and API keys, read through each feature's own scoping
(`readable(principal)`), so a participant sees exactly what the API would show them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from market.catalog import products
from market.console import repository
from market.console.web import Console
from market.db.session import Session
from market.notifications import service as notifications
from market.orders import service as orders
from market.participants import service as participants
from market.registry import repository as registry

router = APIRouter(include_in_schema=False)


@router.get("/console/me", response_class=HTMLResponse)
async def my_exchange(v: Console, session: Session) -> HTMLResponse:
    principal = v.require()
    if principal.participant_id is None:  # staff work in their own pages
        return v.render("error.html", status_code=403, heading=v.t("forbidden"), message=v.t("forbidden"))
    participant = await participants.caller_participant(session, principal)
    return v.render(
        "me.html",
        participant=participant,
        resources=await registry.resources_page(session, principal, None, 100),
        registrations=await repository.registrations_of_participant(session, principal.participant_id),
        products=await products.page(session, principal, None, 100),
        orders=await orders.page(session, principal, role=None, status=None, cursor=None, limit=100),
        licences=await repository.licences_of_participant(session, principal.participant_id),
        endpoints=await notifications.list_endpoints(session, principal),
        keys=await participants.list_api_keys(session, principal),
    )
