"""HTTP: data-subject requests, and the contact verification that lets a person without an
account file one. Parse, authorise, call, return."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from market.auth.principal import MaybeAuthenticated, Operator, Seller
from market.common.clock import now
from market.common.masking import mask_contact
from market.common.pagination import Cursor, Limit, Page, page_of
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, Unauthenticated, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.privacy import contacts, repository, requesters, requests
from market.privacy.contacts import (
    CONTACT_SENDER,
    ContactChannelUnavailable,
    ContactSender,
    TooManyCodes,
    WrongCode,
)
from market.privacy.models import ContactVerification, SubjectRequest
from market.privacy.schemas import (
    CodeConfirmation,
    ContactVerificationCreate,
    ContactVerificationOut,
    Escalation,
    RequesterToken,
    SubjectRequestAnswer,
    SubjectRequestCreate,
    SubjectRequestDecision,
    SubjectRequestOut,
)
from market.privacy.states import ARTICLE, RequestKind
from market.runtime import AppSettings, SessionMaker, port

router = APIRouter(prefix="/v1/subject-requests", tags=["personal information"])
NO_STORE = {"Cache-Control": "no-store"}
requester_token = APIKeyHeader(
    name="X-Requester-Token",
    auto_error=False,
    description="A person without an account: the token from a confirmed contact verification",
)
StatusFilter = Annotated[str | None, Query(pattern="^(open|fulfilled|refused|escalated|upheld|dismissed)$")]


async def _viewer(
    session: Session,
    settings: AppSettings,
    principal: MaybeAuthenticated,
    token: Annotated[str | None, Depends(requester_token)],
) -> requesters.Viewer:
    return await requesters.identify(session, settings, principal, token)


Viewer = Annotated[requesters.Viewer, Depends(_viewer)]


def request_out(row: SubjectRequest, verification: ContactVerification | None) -> SubjectRequestOut:
    return SubjectRequestOut.model_validate(
        {
            **{f: getattr(row, f) for f in SubjectRequestOut.model_fields if hasattr(row, f)},
            "article": ARTICLE[RequestKind(row.kind)],
            "filed_at": row.created_at,
            "overdue": row.answered_at is None and now() > row.due_at,
            "verified_by": verification.channel if verification else "account",
            "verified_contact": verification.contact if verification else None,
        }
    )


async def _one_out(session: Any, row: SubjectRequest) -> SubjectRequestOut:
    return request_out(row, await repository.verification(session, row.verification_id))


@router.post(
    "/contact-verifications",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactVerificationOut,
    tags=["public"],
    summary="A person without an account: send a one-time code to an e-mail address or mobile number",
    responses=problem_responses(TooManyCodes, ContactChannelUnavailable),
)
async def start_verification(
    data: ContactVerificationCreate,
    settings: AppSettings,
    sessionmaker: SessionMaker,
    sender: Annotated[ContactSender, port(CONTACT_SENDER)],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if not sender.available:
        raise ContactChannelUnavailable(
            "no e-mail or SMS gateway is configured here; sign up as a natural person to file a request"
        )
    async with sessionmaker() as session, session.begin():
        call = idempotent(session, "anonymous", idempotency_key, "contact_verifications.create", data)
        if replayed := await call.replay():
            return replayed
        row, code = await contacts.start(session, settings, data)
        out = await call.remember(
            ContactVerificationOut(
                id=row.id, channel=row.channel, sent_to=mask_contact(row.contact), expires_at=row.expires_at
            )
        )
    # Sent once the verification is committed: no transaction waits on the gateway.
    try:
        await sender.send_code(channel=row.channel, contact=row.contact, code=code, expires_at=row.expires_at)
    except (OSError, TimeoutError) as exc:
        raise ContactChannelUnavailable(
            f"the code could not be sent ({type(exc).__name__}); try again"
        ) from exc
    return out


@router.post(
    "/contact-verifications/{verification_id}/confirmation",
    response_model=RequesterToken,
    tags=["public"],
    summary="Confirm the code; the requester token lets you file and follow requests without an account",
    responses=problem_responses(NotFound, Conflict, WrongCode),
)
async def confirm_verification(
    verification_id: uuid.UUID, data: CodeConfirmation, settings: AppSettings, session: Session
) -> JSONResponse:
    row, token = await contacts.confirm(session, settings, verification_id, data.code)
    assert row.token_expires_at is not None
    body = RequesterToken(requester_token=token, expires_at=row.token_expires_at)
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubjectRequestOut,
    summary="File a request about your personal information (PIPL Art. 44-48): access, copy, "
    "portability, correction, deletion, consent withdrawal, explanation",
    responses=problem_responses(NotFound, Forbidden, Unauthenticated),
)
async def file_request(
    data: SubjectRequestCreate,
    settings: AppSettings,
    session: Session,
    viewer: Viewer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    owner = viewer.requester.actor if viewer.requester else "anonymous"
    call = idempotent(session, owner, idempotency_key, "subject_requests.create", data)
    if replayed := await call.replay():
        return replayed
    row = await requests.file(session, settings, viewer, data)
    return await call.remember(await _one_out(session, row))


@router.get(
    "",
    response_model=Page[SubjectRequestOut],
    summary="Your requests; a seller's requests against it (deadlines, warnings); operators: all",
    responses=problem_responses(Unauthenticated),
)
async def list_requests(
    session: Session, viewer: Viewer, status: StatusFilter = None, limit: Limit = 50, cursor: Cursor = None
) -> Page[SubjectRequestOut]:
    rows = await requesters.page(session, viewer, status, cursor, limit)
    found = await repository.verifications(session, {r.verification_id for r in rows if r.verification_id})
    return page_of(rows, limit, lambda r: request_out(r, found.get(r.verification_id)))


@router.get(
    "/{request_id}",
    response_model=SubjectRequestOut,
    summary="A request (the person, the seller, operators)",
    responses=problem_responses(NotFound, Unauthenticated),
)
async def read_request(request_id: uuid.UUID, session: Session, viewer: Viewer) -> SubjectRequestOut:
    return await _one_out(session, await requesters.visible(session, viewer, request_id))


@router.post(
    "/{request_id}/answer",
    response_model=SubjectRequestOut,
    summary="The seller answers: fulfilled, or refused with reasons (PIPL Art. 50)",
    responses=problem_responses(NotFound, Conflict),
)
async def answer(
    request_id: uuid.UUID,
    data: SubjectRequestAnswer,
    settings: AppSettings,
    session: Session,
    principal: Seller,
) -> SubjectRequestOut:
    return await _one_out(session, await requests.answer(session, settings, principal, request_id, data))


@router.post(
    "/{request_id}/escalation",
    response_model=SubjectRequestOut,
    summary="The person takes a refused, disputed or overdue request to the exchange's operators",
    responses=problem_responses(NotFound, Conflict, Unauthenticated),
)
async def escalate(
    request_id: uuid.UUID, data: Escalation, settings: AppSettings, session: Session, viewer: Viewer
) -> SubjectRequestOut:
    return await _one_out(session, await requests.escalate(session, settings, viewer, request_id, data))


@router.post(
    "/{request_id}/decision",
    response_model=SubjectRequestOut,
    summary="Operator: uphold or dismiss an escalated request (an upheld withdrawal or deletion takes "
    "effect)",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def decide(
    request_id: uuid.UUID,
    data: SubjectRequestDecision,
    settings: AppSettings,
    session: Session,
    principal: Operator,
) -> SubjectRequestOut:
    return await _one_out(session, await requests.decide(session, settings, principal, request_id, data))
