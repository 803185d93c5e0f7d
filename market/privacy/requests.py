"""Data-subject requests (PIPL Art. 44-50; Jilin Regulation 2023 Art. 41-44): a person files,
the seller answers by the deadline (PIPL Art. 50: a refusal states its reasons), the person or
the deadline escalates to the operators, who uphold or dismiss. Status changes go through
`_move` (the table in `states.py`); every one is audited with the person as a keyed pseudonym,
and free text (which may name the person) only as its keyed digest.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.common.masking import pseudonym
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.notifications.outbox import OPERATORS, notify
from market.participants import service as participants
from market.privacy import effects, repository
from market.privacy.models import SubjectRequest
from market.privacy.requesters import Viewer
from market.privacy.schemas import (
    Escalation,
    SubjectRequestAnswer,
    SubjectRequestCreate,
    SubjectRequestDecision,
)
from market.privacy.states import ARTICLE, REMOVALS, SUBJECT_REQUESTS, RequestKind, RequestStatus
from market.registry import lifecycle
from market.registry import resources as registry_resources
from market.registry.workdays import add_working_days
from market.settings import Settings


def _digest(settings: Settings, text: Any) -> str:
    """A keyed digest of free text for the audit log: it proves what the stored text was
    without copying into the log whatever identity the text may carry."""
    return pseudonym(settings.pseudonym_key(), "text", json.dumps(text, ensure_ascii=False, sort_keys=True))


async def _move(
    session: AsyncSession,
    request: SubjectRequest,
    target: RequestStatus,
    *,
    actor: str,
    payload: dict[str, Any],
) -> None:
    SUBJECT_REQUESTS.check(request.status, target)
    previous, request.status, request.updated_at = request.status, target, now()
    await record(
        session,
        actor=actor,
        action=f"subject_request.{target}",
        subject_type="subject_request",
        subject_id=request.id,
        payload={"kind": request.kind, "from": previous, **payload},
    )


async def _target(session: AsyncSession, data: SubjectRequestCreate) -> tuple[uuid.UUID, uuid.UUID | None]:
    if data.resource_id is not None:
        resource = await registry_resources.find(session, data.resource_id)
        if resource is None:
            raise NotFound("resource not found", fields=[("body.resource_id", "no such resource")])
        if data.seller_id is not None and data.seller_id != resource.owner_id:
            raise InvalidInput(
                "the resource is another seller's", fields=[("body.seller_id", "does not hold this resource")]
            )
        return resource.owner_id, resource.id
    assert data.seller_id is not None  # the schema asks for one of the two
    seller = await participants.find(session, data.seller_id)
    if seller is None:
        raise NotFound("seller not found", fields=[("body.seller_id", "no such participant")])
    return seller.id, None


async def file(
    session: AsyncSession, settings: Settings, viewer: Viewer, data: SubjectRequestCreate
) -> SubjectRequest:
    requester = viewer.requester
    if requester is None:
        raise Forbidden(
            "data-subject requests are filed by natural persons: sign in as one, or verify your contact "
            "(POST /v1/subject-requests/contact-verifications) and send X-Requester-Token"
        )
    seller_id, resource_id = await _target(session, data)
    calendar, at = await lifecycle.calendar(session), now()
    days = settings.subject_request_working_days
    request = SubjectRequest(
        id=uuid.uuid4(),
        kind=data.kind,
        status=RequestStatus.OPEN,
        seller_id=seller_id,
        resource_id=resource_id,
        requester_participant_id=requester.participant_id,
        verification_id=requester.verification_id,
        requester_pseudonym=requester.pseudonym,
        details=data.details,
        subject_identifiers=data.subject_identifiers,
        due_at=add_working_days(at, days, calendar),
        warn_at=add_working_days(at, days - settings.subject_request_warning_working_days, calendar),
        created_at=at,
        updated_at=at,
    )
    session.add(request)
    await record(
        session,
        actor=requester.actor,
        action="subject_request.filed",
        subject_type="subject_request",
        subject_id=request.id,
        payload={
            "kind": request.kind,
            "basis": ARTICLE[RequestKind(request.kind)],
            "seller_id": str(seller_id),
            "resource_id": str(resource_id) if resource_id else None,
            "due_at": request.due_at,
            "details_digest": _digest(settings, data.details),
        },
    )
    await notify(
        session,
        "subject_request.filed",
        to=[seller_id],
        subject=("subject_request", request.id),
        data={"kind": request.kind, "due_at": request.due_at},
    )
    return request


async def _taken_out_of(
    session: AsyncSession, request: SubjectRequest, named: list[uuid.UUID], *, takes_effect: bool
) -> list[uuid.UUID]:
    """The seller's resources an upheld withdrawal or deletion takes effect on: those named, else
    those named before, else the request's own (none for any other request)."""
    if not (takes_effect and request.kind in REMOVALS):
        return []
    before = [uuid.UUID(r) for r in request.affected_resource_ids or ()]
    ids = list(dict.fromkeys(named)) or before or ([request.resource_id] if request.resource_id else [])
    field = "body.resource_ids"
    if not ids:
        raise InvalidInput(
            "name the resources the person's data is taken out of",
            fields=[(field, "required for a withdrawal or deletion filed against a seller")],
        )
    found = {r.id: r for r in await registry_resources.find_many(session, ids)}
    wrong = [
        (f"{field}.{i}", "not a resource of this seller")
        for i, rid in enumerate(ids)
        if rid not in found or found[rid].owner_id != request.seller_id
    ]
    if wrong:
        raise InvalidInput("these resources are not the seller's", fields=wrong)
    return ids


async def _removal_takes_effect(
    session: AsyncSession,
    settings: Settings,
    request: SubjectRequest,
    resource_ids: list[uuid.UUID],
    actor: str,
) -> None:
    request.affected_resource_ids = [str(r) for r in resource_ids]
    cause = effects.Cause("subject_request", request.id, request.kind)
    await effects.take_personal_data_out(
        session, settings, resource_ids=resource_ids, cause=cause, actor=actor
    )


async def answer(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    data: SubjectRequestAnswer,
) -> SubjectRequest:
    """The seller's answer: fulfilled (an upheld withdrawal or deletion takes effect) or refused."""
    request = await repository.subject_request(session, request_id, lock=True)
    if request is None or request.seller_id != principal.participant_id:
        raise NotFound("request not found")
    target = RequestStatus(data.outcome)
    SUBJECT_REQUESTS.check(request.status, target)
    affected = await _taken_out_of(
        session, request, data.resource_ids, takes_effect=target == RequestStatus.FULFILLED
    )
    request.answered_at, request.response = now(), data.response
    request.refusal_reasons = data.reasons if target == RequestStatus.REFUSED else None
    await _move(
        session,
        request,
        target,
        actor=principal.actor,
        payload={
            "late": request.answered_at > request.due_at,
            "response_digest": _digest(settings, data.response),
            "reasons_digest": _digest(settings, data.reasons) if data.reasons else None,
            "affected_resource_ids": [str(r) for r in affected],
        },
    )
    if affected:
        await _removal_takes_effect(session, settings, request, affected, principal.actor)
    await notify(
        session,
        f"subject_request.{target}",
        to=[request.requester_participant_id],  # a person verified by a contact reads the request
        subject=("subject_request", request.id),
        data={"kind": request.kind},
    )
    return request


async def escalate(
    session: AsyncSession, settings: Settings, viewer: Viewer, request_id: uuid.UUID, data: Escalation
) -> SubjectRequest:
    """The person takes the request to the exchange's operators: after a refusal or an answer
    they dispute, or once the deadline has passed unanswered."""
    request = await repository.subject_request(session, request_id, lock=True)
    if (
        request is None
        or viewer.requester is None
        or viewer.requester.pseudonym != request.requester_pseudonym
    ):
        raise NotFound("request not found")
    if request.status == RequestStatus.OPEN and now() <= request.due_at:
        raise Conflict(
            f"the seller has until {request.due_at.isoformat()} to answer; escalate after that",
            code="request-not-yet-due",
        )
    request.escalated_at, request.escalation_cause, request.escalation_reason = (
        now(),
        "requester",
        data.reason,
    )
    await _move(
        session,
        request,
        RequestStatus.ESCALATED,
        actor=viewer.requester.actor,
        payload={"cause": "requester", "reason_digest": _digest(settings, data.reason)},
    )
    await notify(
        session,
        "subject_request.escalated",
        to=[OPERATORS],
        subject=("subject_request", request.id),
        data={"cause": "requester"},
    )
    return request


async def escalate_at_deadline(session: AsyncSession, request: SubjectRequest) -> None:
    """An open request unanswered at its deadline goes to the operators (run by `jobs`)."""
    request.escalated_at, request.escalation_cause = now(), "deadline"
    await _move(
        session,
        request,
        RequestStatus.ESCALATED,
        actor="system",
        payload={"cause": "deadline", "due_at": request.due_at},
    )
    await notify(
        session,
        "subject_request.escalated",
        to=[OPERATORS, request.seller_id, request.requester_participant_id],
        subject=("subject_request", request.id),
        data={"cause": "deadline", "due_at": request.due_at},
    )


async def decide(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    data: SubjectRequestDecision,
) -> SubjectRequest:
    """An operator's decision on an escalated request; an upheld withdrawal or deletion takes
    effect at once, whatever the seller does next."""
    request = await repository.subject_request(session, request_id, lock=True)
    if request is None:
        raise NotFound("request not found")
    target = RequestStatus(data.outcome)
    SUBJECT_REQUESTS.check(request.status, target)
    affected = await _taken_out_of(
        session, request, data.resource_ids, takes_effect=target == RequestStatus.UPHELD
    )
    request.decided_at, request.decided_by, request.decision_reason = now(), principal.actor, data.reason
    await _move(
        session,
        request,
        target,
        actor=principal.actor,
        payload={
            "reason_digest": _digest(settings, data.reason),
            "affected_resource_ids": [str(r) for r in affected],
        },
    )
    if affected:
        await _removal_takes_effect(session, settings, request, affected, principal.actor)
    await notify(
        session,
        f"subject_request.{target}",
        to=[request.seller_id, request.requester_participant_id],
        subject=("subject_request", request.id),
        data={"kind": request.kind},
    )
    return request
