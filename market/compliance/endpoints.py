"""HTTP: compliance dry runs, decision history, review queue, facts on file."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from market.auth.principal import Auditor, Authenticated, Operator, ensure_visible
from market.catalog.models import Product
from market.common.pagination import Cursor, Limit, Page, keyset_page, page_of
from market.compliance import records, service
from market.compliance.decision import Decision
from market.compliance.models import (
    ComplianceDecisionRow,
    OpenApplication,
    OperationMandate,
    SecurityAssessment,
)
from market.compliance.schemas import (
    AssessmentCreate,
    AssessmentOut,
    CheckRequest,
    DecisionOut,
    MandateCreate,
    MandateOut,
    OpenApplicationCreate,
    OpenApplicationDecision,
    OpenApplicationOut,
)
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        kind=decision.kind,
        outcome=decision.outcome,
        findings=[f.model_dump(mode="json") for f in decision.findings],
        ruleset_version=decision.ruleset_version,
        facts=decision.facts,
    )


def row_out(row: ComplianceDecisionRow) -> DecisionOut:
    return DecisionOut.model_validate(row, from_attributes=True)


@router.post(
    "/checks",
    response_model=DecisionOut,
    summary="Dry run: would this listing or trade be allowed now, and why (nothing is stored)",
    responses=problem_responses(NotFound, Forbidden),
)
async def check(data: CheckRequest, session: Session, principal: Authenticated) -> DecisionOut:
    product = await session.get(Product, data.product_id)
    if product is None:
        raise NotFound("product not found", fields=[("body.product_id", "no such product")])
    if data.kind == "listing":
        ensure_visible(principal, product.seller_id, "product")
        buyer_id = None
    else:
        if product.listing_status != "listed":
            ensure_visible(principal, product.seller_id, "product")
        if data.buyer_id is not None and data.buyer_id != principal.participant_id:
            if not principal.has("operator"):
                raise Forbidden(
                    "only operators check trades on behalf of another buyer",
                    fields=[("body.buyer_id", "not your participant")],
                )
        buyer_id = data.buyer_id or principal.participant_id
        if buyer_id is None:
            raise InvalidInput(
                "say which buyer the trade is for", fields=[("body.buyer_id", "required for staff")]
            )
    decision = await service.dry_run(
        session,
        kind=data.kind,
        product=product,
        buyer_id=buyer_id,
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
    )
    return decision_out(decision)


@router.get(
    "/decisions",
    response_model=Page[DecisionOut],
    summary="Decision history (operators, auditors)",
    responses=problem_responses(Forbidden),
)
async def list_decisions(
    session: Session,
    principal: Auditor,
    limit: Limit = 50,
    cursor: Cursor = None,
    subject_type: Annotated[str | None, Query(max_length=20)] = None,
    subject_id: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[str | None, Query(pattern="^(allow|deny|needs_review)$")] = None,
) -> Page[DecisionOut]:
    stmt = select(ComplianceDecisionRow)
    if subject_type:
        stmt = stmt.where(ComplianceDecisionRow.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(ComplianceDecisionRow.subject_id == subject_id)
    if outcome:
        stmt = stmt.where(ComplianceDecisionRow.outcome == outcome)
    rows = list((await session.execute(keyset_page(stmt, ComplianceDecisionRow, cursor, limit))).scalars())
    return page_of(rows, limit, row_out)


@router.get(
    "/reviews",
    response_model=Page[DecisionOut],
    summary="Listings and orders parked for an operator's review",
    responses=problem_responses(Forbidden),
)
async def pending_reviews(
    session: Session, principal: Operator, limit: Limit = 50, cursor: Cursor = None
) -> Page[DecisionOut]:
    stmt = select(ComplianceDecisionRow).where(ComplianceDecisionRow.review_status == "pending")
    rows = list((await session.execute(keyset_page(stmt, ComplianceDecisionRow, cursor, limit))).scalars())
    return page_of(rows, limit, row_out)


@router.get(
    "/decisions/{decision_id}",
    response_model=DecisionOut,
    summary="One decision with its findings and facts snapshot",
    responses=problem_responses(NotFound, Forbidden),
)
async def read_decision(decision_id: uuid.UUID, session: Session, principal: Auditor) -> DecisionOut:
    return row_out(await service.get_decision(session, decision_id))


@router.post(
    "/mandates",
    status_code=status.HTTP_201_CREATED,
    response_model=MandateOut,
    summary="Record an authorised-operation mandate for public data (Art. 36)",
    responses=problem_responses(NotFound, Forbidden),
)
async def create_mandate(
    data: MandateCreate, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "compliance.mandates.create", data)
    if replayed := await call.replay():
        return replayed
    mandate: OperationMandate = await records.create_mandate(session, principal, data)
    return await call.remember(MandateOut.model_validate(mandate, from_attributes=True))


@router.post(
    "/open-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=OpenApplicationOut,
    summary="Apply to use conditionally open public data (Art. 35)",
    responses=problem_responses(NotFound, Forbidden),
)
async def apply_open(
    data: OpenApplicationCreate,
    session: Session,
    principal: Authenticated,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "compliance.open_applications.create", data)
    if replayed := await call.replay():
        return replayed
    application: OpenApplication = await records.apply_for_open_data(session, principal, data)
    return await call.remember(OpenApplicationOut.model_validate(application, from_attributes=True))


@router.post(
    "/open-applications/{application_id}/decision",
    response_model=OpenApplicationOut,
    summary="Approve (with conditions) or reject a conditional-open application",
    responses=problem_responses(NotFound, Forbidden, Conflict),
)
async def decide_open(
    application_id: uuid.UUID, data: OpenApplicationDecision, session: Session, principal: Operator
) -> OpenApplicationOut:
    application = await records.decide_open_application(session, principal, application_id, data)
    return OpenApplicationOut.model_validate(application, from_attributes=True)


@router.post(
    "/security-assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentOut,
    summary="Put a cross-border security assessment on file (Art. 88)",
    responses=problem_responses(NotFound, Forbidden),
)
async def record_assessment(
    data: AssessmentCreate, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "compliance.assessments.create", data)
    if replayed := await call.replay():
        return replayed
    assessment: SecurityAssessment = await records.record_assessment(session, principal, data)
    return await call.remember(AssessmentOut.model_validate(assessment, from_attributes=True))
