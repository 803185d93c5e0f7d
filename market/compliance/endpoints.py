"""HTTP: compliance dry runs, decision history, review queue, facts on file."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from market.auth.principal import Auditor, Authenticated, Operator
from market.common.pagination import Cursor, Limit, Page, page_of
from market.compliance import records, repository, service
from market.compliance.models import (
    ComplianceDecisionRow,
    OpenApplication,
    OperationMandate,
    SecurityAssessment,
)
from market.compliance.schemas import (
    AssessmentCreate,
    AssessmentOut,
    DecisionOut,
    MandateCreate,
    MandateOut,
    OpenApplicationCreate,
    OpenApplicationDecision,
    OpenApplicationOut,
)
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])


def row_out(row: ComplianceDecisionRow) -> DecisionOut:
    return DecisionOut.model_validate(row, from_attributes=True)


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
    stmt = repository.decisions(subject_type=subject_type, subject_id=subject_id, outcome=outcome)
    rows = await repository.decisions_page(session, stmt, cursor, limit)
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
    rows = await repository.decisions_page(
        session, repository.decisions(pending_review_only=True), cursor, limit
    )
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
