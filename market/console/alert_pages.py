"""Operators: risk alerts (Art. 61) with their severity and evidence, acknowledged with a reason
through the alert service (so the acknowledgement is audited as the API's is)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from market.alerts import repository, service
from market.alerts.endpoints import Acknowledgement
from market.common.pagination import Cursor, page_of
from market.console.operator_pages import fail
from market.console.web import Console
from market.db.session import Session
from market.errors import MarketError

router = APIRouter(include_in_schema=False)


@router.get("/console/alerts", response_class=HTMLResponse)
async def alerts(
    v: Console,
    session: Session,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|)$")] = "open",
    cursor: Cursor = None,
) -> HTMLResponse:
    v.require("operator")
    limit = 50
    rows = await repository.page(session, status=status or None, rule=None, cursor=cursor, limit=limit)
    page = page_of(rows, limit, lambda a: a)
    return v.render(
        "alerts.html",
        alerts=[(a, json.dumps(a.evidence, ensure_ascii=False, indent=1, default=str)) for a in page.items],
        status=status or "",
        next_cursor=page.next_cursor,
    )


@router.post("/console/alerts/{alert_id}/acknowledgement")
async def acknowledge(
    v: Console,
    alert_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form(max_length=2000)],
    session: Session,
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = "/console/alerts"
    try:
        data = Acknowledgement(reason=reason)
    except ValidationError as exc:
        return v.redirect(back, flash=("error", f"{v.t('reason')}: {exc.errors()[0]['msg']}"))
    try:
        await service.acknowledge(session, alert_id, data.reason, principal.actor)
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", v.t("acknowledged")))
