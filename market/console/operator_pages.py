"""Operators: the queues, the registration case page and its decision form (Art. 62).

Every change calls the registry's own use cases (`market.registry.lifecycle`), so the rules,
the audit entries and the notifications are the API's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import parse_leaf
from market.common.clock import now
from market.console import repository
from market.console.web import Console, Visitor
from market.db.session import Session
from market.errors import MarketError
from market.registry import lifecycle
from market.registry.models import DataResource, Registration
from market.registry.schemas import ObjectionResolution, RegistrationDecision

router = APIRouter(include_in_schema=False)

CHECKLIST = ("classification_present", "lawful_source", "fingerprint", "rights_evidence")
STATUSES = ("submitted", "publicity", "registered", "rejected")


@dataclass(frozen=True)
class RuleFinding:
    """One of the checks the registry's review rests on, with its article and what the facts say."""

    label_zh: str
    label_en: str
    article: str
    passed: bool
    detail: str
    # Where the rule neither passes nor fails but asks for a person (a compliance `review`).
    needs_review: bool = False


def findings(reg: Registration, resource: DataResource) -> list[RuleFinding]:
    """What an operator's checklist asks, read off the facts. The decision itself is the
    registry's (`lifecycle.decide` refuses an approval with an item unticked)."""
    return [
        RuleFinding(
            "核心数据不得登记交易",
            "Core data is not registered for trading",
            "Art. 82",
            resource.grade != "core",
            f"grade: {resource.grade}",
        ),
        RuleFinding(
            "已分类分级",
            "Classified and graded",
            "Art. 21, 35",
            bool(resource.category and resource.grade),
            f"category: {resource.category}; grade: {resource.grade}",
        ),
        RuleFinding(
            "数据来源合法",
            "Lawful source stated",
            "Art. 62",
            bool(resource.lawful_source.strip()),
            resource.lawful_source[:200],
        ),
        RuleFinding(
            "样本指纹已登记",
            "Sample fingerprint recorded",
            "Art. 62",
            bool(resource.fingerprint_sha256),
            resource.fingerprint_sha256 or "—",
        ),
        RuleFinding(
            "权属证明",
            "Evidence of the holding right",
            "Art. 22",
            bool(reg.rights_evidence.strip()),
            reg.rights_evidence[:200],
        ),
    ]


async def fail(v: Visitor, session: AsyncSession, exc: MarketError, back: str) -> Response:
    """A refusal from a service: nothing it began is kept (unless it must be), and the page says why."""
    if exc.keeps_changes:
        await session.commit()
    else:
        await session.rollback()
    detail = exc.message
    if exc.fields:
        detail += " (" + "; ".join(f"{f}: {r}" for f, r in exc.fields) + ")"
    return v.redirect(back, flash=("error", detail))


@router.get("/console", response_class=HTMLResponse)
async def console_home(v: Console) -> Response:
    principal = v.require()
    if principal.has("operator"):
        return v.redirect("/console/queues")
    if principal.has("auditor"):
        return v.redirect("/console/audit")
    if principal.has("price_authority"):
        return v.redirect("/console/price-catalogue")
    return v.redirect("/console/me")


@router.get("/console/queues", response_class=HTMLResponse)
async def queues(v: Console, session: Session) -> HTMLResponse:
    v.require("operator")
    return v.render("queues.html", queues=await repository.queues(session), now=now())


@router.get("/console/registrations", response_class=HTMLResponse)
async def registrations(
    v: Console,
    session: Session,
    status: Annotated[str, Query(pattern="^(submitted|publicity|registered|rejected)$")] = "submitted",
) -> HTMLResponse:
    v.require("operator")
    rows = await repository.registrations(session, status)
    return v.render("registrations.html", rows=rows, status=status, statuses=STATUSES, now=now())


@router.get("/console/registrations/{registration_id}", response_class=HTMLResponse)
async def registration_case(v: Console, session: Session, registration_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await repository.registration_case(session, registration_id)
    if case is None:
        return v.render("error.html", status_code=404, heading=v.t("not_found"), message=str(registration_id))
    entries = await repository.history(session, "registration", str(registration_id))
    return v.render(
        "registration.html",
        case=case,
        findings=findings(case.registration, case.resource),
        objections=await repository.objections_of(session, registration_id),
        history=[(e, parse_leaf(e.leaf)) for e in entries],
        checklist=CHECKLIST,
        now=now(),
    )


@router.post("/console/registrations/{registration_id}/decision")
async def decide(
    v: Console,
    registration_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=200)],
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    session: Session,
    checks: Annotated[list[str] | None, Form(max_length=10)] = None,
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/registrations/{registration_id}"
    ticked = set(checks or ())
    try:
        # The API's request model, so the form is held to the same rules as a JSON body.
        data = RegistrationDecision.model_validate(
            {
                "decision": decision,
                "checklist": {k: k in ticked for k in CHECKLIST},
                "reasons": [line.strip() for line in reasons.splitlines() if line.strip()],
            }
        )
    except ValidationError as exc:
        return v.redirect(back, flash=("error", str(exc.errors()[0]["msg"])))
    try:
        await lifecycle.decide(session, v.settings, principal, registration_id, data)
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", v.t("decided")))


@router.post("/console/objections/{objection_id}/resolution")
async def resolve_objection(
    v: Console,
    objection_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=200)],
    outcome: Annotated[str, Form(pattern="^(upheld|dismissed)$")],
    reason: Annotated[str, Form(max_length=2000)],
    back: Annotated[str, Form(pattern=r"^/console/registrations/[0-9a-f-]{36}$")],
    session: Session,
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    try:
        data = ObjectionResolution.model_validate({"outcome": outcome, "reason": reason})
    except ValidationError as exc:
        return v.redirect(back, flash=("error", str(exc.errors()[0]["msg"])))
    try:
        await lifecycle.resolve_objection(session, v.settings, principal, objection_id, data)
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", v.t("decided")))


@router.post("/console/registrations/finalise-due")
async def finalise_due(
    v: Console,
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    back: Annotated[
        str, Form(pattern=r"^/console/(queues|registrations/[0-9a-f-]{36})$")
    ] = "/console/queues",
) -> Response:
    """What `POST /v1/registrations/finalise-due` does: register now what the finalisation job
    would (publicity ended, no open objection); safe beside the job."""
    v.require("operator")
    v.check_csrf(csrf)
    done = await lifecycle.finalise_due(session, v.settings)
    return v.redirect(back, flash=("ok", v.t("finalised", n=len(done))))
