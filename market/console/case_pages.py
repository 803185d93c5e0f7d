"""Operators' case pages beyond registrations: listings, compliance reviews, disputes,
data-subject escalations and participant verifications.

Each page shows the facts, the rule findings with their articles and the history from the audit
log; each form is validated by the API's own request model and calls the API's own service
function, so the same rules refuse and the same audit entries are written.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import parse_leaf
from market.catalog import products
from market.catalog.schemas import ListingDecision
from market.catalog.states import DECISION_SOURCES
from market.common.clock import now
from market.compliance.models import ComplianceDecisionRow
from market.console import case_queries, repository
from market.console.operator_pages import RuleFinding, fail
from market.console.web import Console, Visitor
from market.db.session import Session
from market.errors import MarketError
from market.orders.schemas import ReviewDecision
from market.participants import verification
from market.participants.schemas import VerificationDecision
from market.payments import checkout, resolutions
from market.payments.provider import PAYMENT_PROVIDER, PaymentProvider
from market.payments.schemas import DisputeResolution
from market.privacy import requests as subject_requests
from market.privacy.schemas import SubjectRequestDecision
from market.privacy.states import ARTICLE, RequestKind
from market.runtime import port

router = APIRouter(include_in_schema=False)
Provider = Annotated[PaymentProvider, port(PAYMENT_PROVIDER)]
VERIFICATION_CHECKLIST = ("identity_documents", "legal_representative", "contact", "intended_use")
# Text fields are bounded here as in the API's models; the models say what is too short.
Text = Annotated[str, Form(max_length=4000)]
M = TypeVar("M", bound=BaseModel)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def history(session: AsyncSession, subject_type: str, subject_id: str) -> list[tuple[Any, Any]]:
    return [(e, parse_leaf(e.leaf)) for e in await repository.history(session, subject_type, subject_id)]


def validated(v: Visitor, model: type[M], data: dict[str, Any]) -> M | str:
    """The API's request model over the form; on bad input, the message naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or v.t('case_form')}: {e['msg']}" for e in exc.errors()
        )


def compliance_findings(row: ComplianceDecisionRow | None) -> list[RuleFinding]:
    """The rule set's own findings as stored with its decision (rule id, article, outcome)."""
    if row is None:
        return []
    return [
        RuleFinding(
            f["message_zh"],
            f["message_en"],
            f"{f['article']} ({f['rule_id']})",
            f["outcome"] not in ("deny", "review"),
            f["outcome"],
            needs_review=f["outcome"] == "review",
        )
        for f in row.findings
    ]


def not_found(v: Visitor, what: uuid.UUID) -> HTMLResponse:
    return v.render("error.html", status_code=404, heading=v.t("not_found"), message=str(what))


def queue_page(v: Visitor, key: str, rows: list[case_queries.QueueRow], **extra: Any) -> HTMLResponse:
    return v.render("case_queue.html", key=key, rows=rows, now=now(), **extra)


async def decided(v: Visitor, session: AsyncSession, back: str, call: Any) -> Response:
    """Run a service's decision; a refusal rolls back and is shown on the case page."""
    try:
        await call
    except MarketError as exc:
        return await fail(v, session, exc, back)
    return v.redirect(back, flash=("ok", v.t("decided")))


# --- Listings (a listing the rules parked for review) -----------------------------------


@router.get("/console/listings", response_class=HTMLResponse)
async def listings(v: Console, session: Session) -> HTMLResponse:
    v.require("operator")
    return queue_page(v, "listings_to_review", await case_queries.listing_queue(session))


@router.get("/console/listings/{product_id}", response_class=HTMLResponse)
async def listing_case(v: Console, session: Session, product_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await case_queries.listing_case(session, product_id)
    if case is None:
        return not_found(v, product_id)
    status = case.product.listing_status
    return v.render(
        "listing_case.html",
        case=case,
        findings=compliance_findings(case.decision),
        actions=[a for a, sources in DECISION_SOURCES.items() if status in sources],
        history=await history(session, "product", str(product_id)),
    )


@router.post("/console/listings/{product_id}/decision")
async def decide_listing(
    v: Console,
    product_id: uuid.UUID,
    session: Session,
    csrf: Annotated[str, Form(max_length=200)] = "",
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/listings/{product_id}"
    data = validated(v, ListingDecision, {"action": action, "reason": reason.strip()})
    if isinstance(data, str):
        return v.redirect(back, flash=("error", data))
    call = products.decide_listing(session, principal, product_id, data.action, data.reason)
    return await decided(v, session, back, call)


# --- Compliance reviews (listings and orders the rules parked) ---------------------------


@router.get("/console/compliance-reviews", response_class=HTMLResponse)
async def compliance_reviews(v: Console, session: Session) -> HTMLResponse:
    v.require("operator")
    return queue_page(v, "compliance_reviews", await case_queries.compliance_queue(session))


@router.get("/console/compliance-reviews/{decision_id}", response_class=HTMLResponse)
async def compliance_case(v: Console, session: Session, decision_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await case_queries.compliance_case(session, decision_id)
    if case is None:
        return not_found(v, decision_id)
    row = case.decision
    return v.render(
        "compliance_case.html",
        case=case,
        findings=compliance_findings(row),
        decidable=row.review_status == "pending" and row.subject_type in ("product", "order"),
        history=await history(session, row.subject_type, row.subject_id),
    )


@router.post("/console/compliance-reviews/{decision_id}/decision")
async def decide_compliance_review(
    v: Console,
    decision_id: uuid.UUID,
    session: Session,
    provider: Provider,
    csrf: Annotated[str, Form(max_length=200)] = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/compliance-reviews/{decision_id}"
    if decision not in ("approve", "reject"):
        return v.redirect(back, flash=("error", v.t("case_choose_decision")))
    data = validated(v, ReviewDecision, {"approve": decision == "approve", "reason": reason.strip()})
    if isinstance(data, str):
        return v.redirect(back, flash=("error", data))
    case = await case_queries.compliance_case(session, decision_id)
    if case is None:
        return not_found(v, decision_id)
    if case.decision.subject_type not in ("product", "order"):
        # Only listings and orders are parked for a person; anything else has no decision here.
        return v.redirect(back, flash=("error", v.t("case_not_decided_here")))
    subject = uuid.UUID(case.decision.subject_id)
    if case.decision.subject_type == "product":
        # What `POST /v1/listings/{id}/decision` does with a parked listing.
        action = "list" if data.approve else "reject"
        call: Any = products.decide_listing(session, principal, subject, action, data.reason)
    else:
        # What `POST /v1/orders/{id}/review` does: approved, the payment starts.
        call = checkout.review_order(
            session, v.settings, provider, principal, subject, approve=data.approve, reason=data.reason
        )
    return await decided(v, session, back, call)


# --- Disputes -----------------------------------------------------------------------------


def dispute_findings(case: case_queries.DisputeCase) -> list[RuleFinding]:
    d = case.dispute
    at = now().replace(tzinfo=None)
    answered = d.responded_at is not None
    return [
        RuleFinding(
            "卖方在期限内答复",
            "Seller answers by its working-day deadline",
            "exchange dispute rules",
            # Failed only once the seller is late: an answer not yet due is not a breach.
            d.responded_at <= d.respond_by
            if d.responded_at is not None
            else d.respond_by.replace(tzinfo=None) >= at,
            f"respond by {d.respond_by:%Y-%m-%d %H:%M}; " + ("answered" if answered else "no answer yet"),
        ),
        RuleFinding(
            "运营在期限内处理",
            "Resolved by the operators' deadline",
            "exchange dispute rules",
            d.status != "open" or d.resolve_by.replace(tzinfo=None) >= at,
            f"resolve by {d.resolve_by:%Y-%m-%d %H:%M}",
        ),
        RuleFinding(
            "卖方结算款已冻结",
            "The seller's payout is frozen while it is open",
            "exchange dispute rules",
            d.status != "open" or case.payout_status == "frozen",
            f"payout: {case.payout_status or '—'}; order: {case.order.status}",
        ),
        RuleFinding(
            "银行卡争议由卡组织裁决",
            "A card dispute is decided by the card network",
            "card network rules",
            d.source != "stripe",
            f"source: {d.source}",
        ),
    ]


@router.get("/console/disputes", response_class=HTMLResponse)
async def disputes(v: Console, session: Session) -> HTMLResponse:
    v.require("operator")
    return queue_page(v, "open_disputes", await case_queries.dispute_queue(session))


@router.get("/console/disputes/{dispute_id}", response_class=HTMLResponse)
async def dispute_case(v: Console, session: Session, dispute_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await case_queries.dispute_case(session, dispute_id)
    if case is None:
        return not_found(v, dispute_id)
    return v.render(
        "dispute_case.html",
        case=case,
        findings=dispute_findings(case),
        history=await history(session, "dispute", str(dispute_id)),
    )


@router.post("/console/disputes/{dispute_id}/resolution")
async def resolve_dispute(
    v: Console,
    dispute_id: uuid.UUID,
    session: Session,
    csrf: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    amount_minor: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/disputes/{dispute_id}"
    amount = amount_minor.strip()
    if amount and outcome != "refund_partial":
        return v.redirect(back, flash=("error", v.t("case_amount_only_partial")))
    if amount and not amount.isdigit():
        return v.redirect(back, flash=("error", v.t("case_amount_whole_fen")))
    data = validated(
        v,
        DisputeResolution,
        {"outcome": outcome, "amount_minor": int(amount) if amount else None, "reason": reason.strip()},
    )
    if isinstance(data, str):
        return v.redirect(back, flash=("error", data))
    call = resolutions.resolve(
        session,
        principal,
        dispute_id,
        outcome=data.outcome,
        amount_minor=data.amount_minor,
        reason=data.reason,
    )
    return await decided(v, session, back, call)


# --- Data-subject escalations (personal-information requests taken to the exchange) -------


def escalation_findings(case: case_queries.EscalationCase) -> list[RuleFinding]:
    r = case.request
    return [
        RuleFinding(
            "个人信息主体的权利",
            "The person's right this request invokes",
            ARTICLE[RequestKind(r.kind)],
            True,
            r.kind,
        ),
        RuleFinding(
            "卖方在法定期限内答复",
            "The seller answered within its deadline",
            "PIPL Art. 50",
            r.answered_at is not None and r.answered_at <= r.due_at,
            f"due {r.due_at:%Y-%m-%d %H:%M}; "
            + (f"answered {r.answered_at:%Y-%m-%d}" if r.answered_at else "—"),
        ),
        RuleFinding(
            "拒绝须说明理由",
            "A refusal gives its reasons",
            "PIPL Art. 50",
            r.refusal_reasons is None or bool(r.refusal_reasons),
            "; ".join(r.refusal_reasons) if r.refusal_reasons is not None else "not refused",
        ),
    ]


@router.get("/console/subject-escalations", response_class=HTMLResponse)
async def escalations(v: Console, session: Session) -> HTMLResponse:
    v.require("operator")
    return queue_page(v, "subject_escalations", await case_queries.escalation_queue(session))


@router.get("/console/subject-escalations/{request_id}", response_class=HTMLResponse)
async def escalation_case(v: Console, session: Session, request_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await case_queries.escalation_case(session, request_id)
    if case is None:
        return not_found(v, request_id)
    return v.render(
        "escalation_case.html",
        case=case,
        findings=escalation_findings(case),
        history=await history(session, "subject_request", str(request_id)),
    )


@router.post("/console/subject-escalations/{request_id}/decision")
async def decide_escalation(
    v: Console,
    request_id: uuid.UUID,
    session: Session,
    csrf: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
    resource_ids: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/subject-escalations/{request_id}"
    data = validated(
        v,
        SubjectRequestDecision,
        {"outcome": outcome, "reason": reason.strip(), "resource_ids": resource_ids or []},
    )
    if isinstance(data, str):
        return v.redirect(back, flash=("error", data))
    call = subject_requests.decide(session, v.settings, principal, request_id, data)
    return await decided(v, session, back, call)


# --- Participant verification (know your customer) ---------------------------------------


def verification_findings(case: case_queries.VerificationCase) -> list[RuleFinding]:
    p = case.participant
    return [
        RuleFinding(
            "未被列入黑名单",
            "Not blacklisted",
            "exchange KYC rules",
            p.credit_status != "blacklisted",
            f"credit status: {p.credit_status}",
        ),
        RuleFinding(
            "不与黑名单参与方相似",
            "Does not resemble a blacklisted participant",
            "exchange KYC rules",
            p.verification_status != "held",
            p.verification_note or "—",
        ),
        RuleFinding(
            "统一社会信用代码校验位",
            "Unified social credit code check digit",
            "GB 32100-2015",
            bool(p.credit_code) and not p.credit_code_override_reason,
            p.credit_code_override_reason or p.credit_code or "—",
        ),
        RuleFinding(
            "已填写法定代表人",
            "Legal representative given",
            "exchange KYC rules",
            bool(p.legal_representative),
            p.legal_representative or "—",
        ),
    ]


@router.get("/console/participant-verifications", response_class=HTMLResponse)
async def verifications(
    v: Console,
    session: Session,
    status: Annotated[str, Query(pattern="^(pending_verification|held|declined)$")] = "pending_verification",
) -> HTMLResponse:
    v.require("operator")
    rows = await case_queries.verification_rows(session, status)
    return queue_page(
        v, "participant_verifications", rows, status=status, statuses=case_queries.VERIFICATION_STATUSES
    )


@router.get("/console/participant-verifications/{participant_id}", response_class=HTMLResponse)
async def verification_case(v: Console, session: Session, participant_id: uuid.UUID) -> HTMLResponse:
    v.require("operator")
    case = await case_queries.verification_case(session, participant_id)
    if case is None:
        return not_found(v, participant_id)
    return v.render(
        "verification_case.html",
        case=case,
        findings=verification_findings(case),
        checklist=VERIFICATION_CHECKLIST,
        history=await history(session, "participant", str(participant_id)),
    )


@router.post("/console/participant-verifications/{participant_id}/decision")
async def decide_verification(
    v: Console,
    participant_id: uuid.UUID,
    session: Session,
    csrf: Annotated[str, Form(max_length=200)] = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
    documents: Text = "",
    checks: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    principal = v.require("operator")
    v.check_csrf(csrf)
    back = f"/console/participant-verifications/{participant_id}"
    ticked = set(checks or ())
    data = validated(
        v,
        VerificationDecision,
        {
            "decision": decision,
            "checklist": {item: item in ticked for item in VERIFICATION_CHECKLIST},
            "reason": reason.strip(),
            "documents": lines(documents),
        },
    )
    if isinstance(data, str):
        return v.redirect(back, flash=("error", data))
    call = verification.decide(session, principal, participant_id, data)
    return await decided(v, session, back, call)
