"""A participant's machine credentials in the console: API keys and webhook endpoints, created and
revoked through the same services (and so the same rules, limits and audit entries) as
`POST/DELETE /v1/api-keys` and `/v1/webhook-endpoints`. A new secret is shown once, on a page
no cache keeps (`Cache-Control: no-store`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from market.console.participant_pages import participant, refuse
from market.console.web import Console, Visitor
from market.db.session import Session
from market.errors import MarketError
from market.notifications import service as notifications
from market.notifications.schemas import EndpointCreate
from market.participants import service as participants
from market.participants.schemas import ApiKeyCreate
from market.ratelimits import RateLimits

router = APIRouter(include_in_schema=False)

BACK = "/console/me"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def invalid(v: Visitor, exc: ValidationError, labels: dict[str, str]) -> Response:
    """A form the API's request model refuses: the first field and why, nothing changed."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    label = labels.get(field, field)
    return v.redirect(BACK, flash=("error", f"{v.t('invalid_input')}: {label}: {error['msg']}"))


def shown_once(v: Visitor, heading: str, label: str, secret: str) -> HTMLResponse:
    page = v.render("secret_once.html", heading=heading, label=label, secret=secret)
    page.headers.update(NO_STORE)
    return page


@router.post("/console/me/api-keys")
async def create_api_key(
    v: Console,
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    limits: RateLimits,
    name: Annotated[str, Form(max_length=1000)] = "",
    roles: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    principal = participant(v)
    v.check_csrf(csrf)
    try:
        data = ApiKeyCreate.model_validate({"name": name.strip(), "roles": roles or []})
    except ValidationError as exc:
        return invalid(v, exc, {"name": v.t("name"), "roles": v.t("roles")})
    try:
        await limits.per_key("api-keys", limits.settings.rate_limit_api_keys, str(principal.participant_id))
        key, secret = await participants.create_api_key(session, principal, data)
    except MarketError as exc:
        return await refuse(v, session, exc, BACK)
    return shown_once(v, v.t("key_created"), f"{key.name} ({', '.join(key.roles)})", secret)


@router.post("/console/me/api-keys/{key_id}/revocation")
async def revoke_api_key(
    v: Console, key_id: uuid.UUID, csrf: Annotated[str, Form(max_length=200)], session: Session
) -> Response:
    principal = participant(v)
    v.check_csrf(csrf)
    try:
        await participants.revoke_api_key(session, principal, key_id)
    except MarketError as exc:
        return await refuse(v, session, exc, BACK)
    return v.redirect(BACK, flash=("ok", v.t("key_revoked")))


@router.post("/console/me/webhooks")
async def create_webhook(
    v: Console,
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    url: Annotated[str, Form(max_length=4000)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    event_types: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    principal = participant(v)
    v.check_csrf(csrf)
    try:
        data = EndpointCreate.model_validate(
            {
                "url": url.strip(),
                "description": description.strip(),
                "event_types": [e.strip() for e in event_types.split(",") if e.strip()],
            }
        )
    except ValidationError as exc:
        labels = {"url": v.t("url"), "description": v.t("description"), "event_types": v.t("event_types")}
        return invalid(v, exc, labels)
    try:
        endpoint, secret = await notifications.create_endpoint(session, v.settings, principal, data)
    except MarketError as exc:
        return await refuse(v, session, exc, BACK)
    return shown_once(v, v.t("webhook_created"), endpoint.url, secret)


@router.post("/console/me/webhooks/{endpoint_id}/deletion")
async def delete_webhook(
    v: Console, endpoint_id: uuid.UUID, csrf: Annotated[str, Form(max_length=200)], session: Session
) -> Response:
    principal = participant(v)
    v.check_csrf(csrf)
    try:
        await notifications.delete_endpoint(session, principal, endpoint_id)
    except MarketError as exc:
        return await refuse(v, session, exc, BACK)
    return v.redirect(BACK, flash=("ok", v.t("webhook_deleted")))
