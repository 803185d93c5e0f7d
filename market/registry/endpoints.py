"""HTTP: resources, registrations, objections, the public registry and the working-day calendar."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import RightsTreeNode, tree
from market.auth.principal import (
    Authenticated,
    Operator,
    Principal,
    Seller,
    api_key_scheme,
    oauth2_scheme,
    principal_before_body,
)
from market.common.clock import now
from market.common.linked_data import LINKED_DATA_RESPONSES, LinkedDataWanted, linked_data_response
from market.common.pagination import Cursor, Limit, Page, page_of
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, Unauthenticated, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.ratelimits import RateLimits, limit_per_ip
from market.registry import lifecycle, linked_data, public_register, repository, resources
from market.registry.models import DataResource, Objection, Registration
from market.registry.schemas import (
    CalendarDayCreate,
    CalendarDayOut,
    ChangeRequest,
    ObjectionCreate,
    ObjectionOut,
    ObjectionResolution,
    RegistrationCreate,
    RegistrationDecision,
    RegistrationOut,
    RegistryEntry,
    ResourceCreate,
    ResourceOut,
    TransferRequest,
)
from market.rights.schemas import GrantOut, RightsTree, TreeNode
from market.rights.validity import to_contract_grant
from market.runtime import AppSettings, PublicIris, SessionMaker

router = APIRouter(prefix="/v1", tags=["registry"])


def resource_out(r: DataResource) -> ResourceOut:
    return ResourceOut.model_validate(r, from_attributes=True)


def registration_out(r: Registration) -> RegistrationOut:
    return RegistrationOut.model_validate(r, from_attributes=True)


def objection_out(o: Objection) -> ObjectionOut:
    return ObjectionOut.model_validate(
        {
            **ObjectionOut.model_validate(o, from_attributes=True).model_dump(),
            "overdue": lifecycle.is_overdue(o, now()),
        }
    )


@router.post(
    "/resources",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceOut,
    summary="Describe a data resource with its classification (Art. 21, 35, 82)",
    responses=problem_responses(Forbidden),
)
async def create_resource(
    data: ResourceCreate, session: Session, principal: Seller, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "resources.create", data)
    if replayed := await call.replay():
        return replayed
    return await call.remember(resource_out(await resources.create_resource(session, principal, data)))


@router.get("/resources", response_model=Page[ResourceOut], summary="Own resources (operators: all)")
async def list_resources(
    session: Session, principal: Authenticated, limit: Limit = 50, cursor: Cursor = None
) -> Page[ResourceOut]:
    return page_of(await repository.resources_page(session, principal, cursor, limit), limit, resource_out)


@router.get(
    "/resources/{resource_id}",
    response_model=ResourceOut,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
    summary="A resource (its owner, operators, auditors); also as linked data",
)
async def read_resource(
    resource_id: uuid.UUID, session: Session, principal: Authenticated, iris: PublicIris, ld: LinkedDataWanted
) -> Any:
    resource = await resources.get_resource(session, principal, resource_id)
    if ld:
        return await linked_data_response(await linked_data.resource_document(session, resource, iris), ld)
    return resource_out(resource)


@router.delete(
    "/resources/{resource_id}",
    response_model=ResourceOut,
    summary="Withdraw a draft resource (a registered one is cancelled through its registration)",
    responses=problem_responses(NotFound, Conflict),
)
async def withdraw_resource(resource_id: uuid.UUID, session: Session, principal: Seller) -> ResourceOut:
    return resource_out(await resources.withdraw_draft(session, principal, resource_id))


SAMPLE_BINARY = {"schema": {"type": "string", "format": "binary"}}
SAMPLE_BODY = {
    "required": True,
    "description": "The sample or manifest file, streamed as is.",
    "content": {
        "application/octet-stream": {**SAMPLE_BINARY, "example": "id,revenue\n1,100\n"},
        "text/csv": {
            **SAMPLE_BINARY,
            "example": "month,district,active_smes\n2026-10,Nanguan,1204\n2026-10,Chaoyang,1877\n",
        },
        "application/json": {
            "schema": {"type": "object", "description": "A manifest, for a resource too large to sample."},
            "example": {"manifest": "monthly files, 2024-01 to 2026-10"},
        },
    },
}


@router.put(
    "/resources/{resource_id}/sample",
    response_model=ResourceOut,
    summary="Stream a sample or manifest; we compute its SHA-256 fingerprint",
    description="The body is the file itself, as is (any media type; up to MARKET_MAX_UPLOAD_BYTES), "
    "e.g. `curl -X PUT --data-binary @sample.csv -H 'Content-Type: text/csv' -H "
    "\"X-Expected-SHA256: $(sha256sum sample.csv | cut -d' ' -f1)\"`. Its SHA-256 becomes the "
    "resource's fingerprint; with `X-Expected-SHA256` a file that arrived different is refused.",
    openapi_extra={"requestBody": SAMPLE_BODY},
    responses=problem_responses(NotFound, Unauthenticated, Forbidden, resources.FingerprintMismatch),
)
async def upload_sample(
    resource_id: uuid.UUID,
    request: Request,
    sessionmaker: SessionMaker,
    settings: AppSettings,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    expected: Annotated[str | None, Header(alias="X-Expected-SHA256", pattern="^[0-9a-fA-F]{64}$")] = None,
) -> ResourceOut:
    principal = await principal_before_body(request, sessionmaker, token, api_key, "seller")
    async with sessionmaker() as session, session.begin():
        await resources.check_sample_target(session, principal, resource_id)
    # No transaction is open while the bytes arrive: the client sets their pace.
    fingerprint, size = await resources.hash_sample(request.stream(), expected, settings.max_upload_bytes)
    async with sessionmaker() as session, session.begin():
        resource = await resources.record_sample(session, principal, resource_id, fingerprint, size)
        return resource_out(resource)


@router.post(
    "/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    summary="Apply to register a resource (Art. 62)",
    responses=problem_responses(NotFound, Conflict),
)
async def apply(
    data: RegistrationCreate, session: Session, principal: Seller, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "registrations.create", data)
    if replayed := await call.replay():
        return replayed
    return await call.remember(registration_out(await lifecycle.apply(session, principal, data)))


@router.post(
    "/registrations/finalise-due",
    summary="Register now what the finalisation job would (publicity ended); safe beside it",
    responses=problem_responses(Forbidden),
)
async def finalise_due(settings: AppSettings, session: Session, principal: Operator) -> dict[str, int]:
    return {"registered": len(await lifecycle.finalise_due(session, settings))}


@router.get(
    "/registrations/{registration_id}",
    response_model=RegistrationOut,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
    summary="A registration (applicant, operators); also as linked data",
)
async def read_registration(
    registration_id: uuid.UUID,
    session: Session,
    principal: Authenticated,
    iris: PublicIris,
    ld: LinkedDataWanted,
) -> Any:
    # A read never registers: the finalisation job does, as of the end of publicity.
    reg = await lifecycle.visible_registration(session, principal, registration_id)
    if ld:
        return await linked_data_response(linked_data.registration_document(reg, iris), ld)
    return registration_out(reg)


@router.post(
    "/registrations/{registration_id}/decision",
    response_model=RegistrationOut,
    summary="Operator review: approve into publicity (or effect transfer/cancellation), or reject",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def decide(
    registration_id: uuid.UUID,
    data: RegistrationDecision,
    settings: AppSettings,
    session: Session,
    principal: Operator,
) -> RegistrationOut:
    return registration_out(await lifecycle.decide(session, settings, principal, registration_id, data))


@router.post(
    "/registrations/{registration_id}/objections",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    summary="Object during publicity (Art. 30); pauses the clock",
    responses=problem_responses(NotFound, Conflict),
)
async def object_to(
    registration_id: uuid.UUID,
    data: ObjectionCreate,
    settings: AppSettings,
    session: Session,
    principal: Authenticated,
    limits: RateLimits,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    # Each objection pauses the registration's publicity (Art. 30): one objector may not stall
    # a competitor's registration by filing them one after another.
    objector = str(principal.participant_id or principal.actor)
    await limits.per_key(
        "objections",
        settings.rate_limit_objections,
        objector,
        str(registration_id),
        message="You have filed as many objections to this registration as the exchange accepts "
        "for now; add to your open objection or retry later.",
    )
    call = idempotent(
        session,
        principal.actor,
        idempotency_key,
        "registrations.objections.create",
        data,
        registration_id=registration_id,
    )
    if replayed := await call.replay():
        return replayed
    objection = await lifecycle.object_to(session, settings, principal, registration_id, data)
    return await call.remember(objection_out(objection))


@router.post(
    "/objections/{objection_id}/resolution",
    response_model=ObjectionOut,
    summary="Uphold (registration rejected) or dismiss (clock resumes) an objection",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def resolve(
    objection_id: uuid.UUID,
    data: ObjectionResolution,
    settings: AppSettings,
    session: Session,
    principal: Operator,
) -> ObjectionOut:
    return objection_out(await lifecycle.resolve_objection(session, settings, principal, objection_id, data))


@router.get(
    "/objections",
    response_model=list[ObjectionOut],
    summary="Objections (operators); overdue first",
)
async def list_objections(
    session: Session,
    principal: Operator,
    overdue: bool = False,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> list[ObjectionOut]:
    rows = await repository.objections(session, open_only=overdue or open_only)
    return [objection_out(o) for o in rows if not overdue or lifecycle.is_overdue(o, now())]


FollowUpRequest = TypeVar("FollowUpRequest", ChangeRequest, TransferRequest)


async def _follow_up(
    kind: str,
    step: Callable[[AsyncSession, Principal, uuid.UUID, FollowUpRequest], Awaitable[Registration]],
    session: AsyncSession,
    principal: Principal,
    registration_id: uuid.UUID,
    data: FollowUpRequest,
    idempotency_key: str | None,
) -> Any:
    """A change, transfer or cancellation of a registration, replayed under its key."""
    call = idempotent(
        session,
        principal.actor,
        idempotency_key,
        f"registrations.{kind}.create",
        data,
        registration_id=registration_id,
    )
    if replayed := await call.replay():
        return replayed
    return await call.remember(registration_out(await step(session, principal, registration_id, data)))


@router.post(
    "/registrations/{registration_id}/changes",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    summary="Register a new version (new fingerprint)",
    responses=problem_responses(NotFound, Conflict),
)
async def change(
    registration_id: uuid.UUID,
    data: ChangeRequest,
    session: Session,
    principal: Seller,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    step = lifecycle.request_change
    return await _follow_up("changes", step, session, principal, registration_id, data, idempotency_key)


@router.post(
    "/registrations/{registration_id}/transfer",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    summary="Transfer to another participant (the holding right moves)",
    responses=problem_responses(NotFound, Conflict),
)
async def transfer(
    registration_id: uuid.UUID,
    data: TransferRequest,
    session: Session,
    principal: Seller,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    step = lifecycle.request_transfer
    return await _follow_up("transfer", step, session, principal, registration_id, data, idempotency_key)


@router.post(
    "/registrations/{registration_id}/cancellation",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    summary="Cancel the registration (the holding right ends)",
    responses=problem_responses(NotFound, Conflict),
)
async def cancel(
    registration_id: uuid.UUID,
    data: ChangeRequest,
    session: Session,
    principal: Seller,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    step = lifecycle.request_cancellation
    return await _follow_up("cancellation", step, session, principal, registration_id, data, idempotency_key)


@router.get(
    "/registry/{registration_number}",
    dependencies=[limit_per_ip("public", "rate_limit_public_ip")],
    response_model=RegistryEntry,
    tags=["public"],
    summary="Public certificate lookup, verifiable offline with the exchange's public key; also as "
    "linked data",
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
)
async def registry_entry(
    registration_number: str, settings: AppSettings, session: Session, iris: PublicIris, ld: LinkedDataWanted
) -> Any:
    if ld:
        reg = await repository.by_number(session, registration_number)
        if reg is None or reg.certificate is None:
            raise NotFound("no certificate with this registration number")
        key = settings.exchange_public_key_b64()
        return await linked_data_response(await linked_data.certificate_document(session, reg, iris, key), ld)
    # A natural person holder is shown masked (李*), in a copy the exchange signs again.
    return await public_register.public_entry(session, settings, registration_number)


@router.get(
    "/holidays",
    response_model=list[CalendarDayOut],
    tags=["public"],
    summary="Operators' additions to the working-day calendar (official holidays come from chinesecalendar)",
)
async def list_days(session: Session) -> list[CalendarDayOut]:
    return [
        CalendarDayOut.model_validate(d, from_attributes=True)
        for d in await repository.calendar_days(session)
    ]


@router.post(
    "/holidays",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarDayOut,
    summary="Add a holiday or makeup working day",
    responses=problem_responses(Conflict, Forbidden),
)
async def add_day(
    data: CalendarDayCreate, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "holidays.create", data)
    if replayed := await call.replay():
        return replayed
    day = await lifecycle.add_calendar_day(session, principal, data)
    return await call.remember(CalendarDayOut.model_validate(day, from_attributes=True))


@router.get(
    "/resources/{resource_id}/rights",
    response_model=RightsTree,
    responses=problem_responses(NotFound),
    summary="The rights tree of a resource with each grant's validity now",
)
async def rights_tree(
    resource_id: uuid.UUID,
    session: Session,
    principal: Authenticated,
    limit: Annotated[int, Query(ge=1, le=1000, description="Grants per page (1-1000)")] = 200,
    cursor: Annotated[
        str | None, Query(pattern=r"^\d{1,9}$", description="`next_cursor` of the page before")
    ] = None,
) -> RightsTree:
    """Grants in depth-first order, `limit` to a page (issue 18, finding 11: a tree of
    thousands of grants is not one answer). A grant whose parent is on an earlier page starts
    a root of its own here; its `grant.parent_id` says where it hangs."""
    grants = await resources.rights_tree(session, principal, resource_id)
    rows = {str(g.id): g for g in grants}
    at = now()
    order: list[RightsTreeNode] = []

    def walk(n: RightsTreeNode) -> None:
        order.append(n)
        for child in n.children:
            walk(child)

    for root in tree({k: to_contract_grant(v) for k, v in rows.items()}, at):
        walk(root)
    start = int(cursor) if cursor else 0
    page = order[start : start + limit]
    on_page = {n.grant.grant_id for n in page}

    def node(n: RightsTreeNode) -> TreeNode:
        return TreeNode(
            grant=GrantOut.model_validate(rows[n.grant.grant_id], from_attributes=True),
            valid=n.validity.valid,
            reason=str(n.validity.reason) if n.validity.reason else None,
            message=n.validity.message,
            children=[node(c) for c in n.children if c.grant.grant_id in on_page],
        )

    roots = [n for n in page if n.grant.parent_id is None or n.grant.parent_id not in on_page]
    more = start + limit < len(order)
    return RightsTree(
        resource_id=resource_id,
        at=at,
        roots=[node(r) for r in roots],
        total_grants=len(order),
        next_cursor=str(start + limit) if more else None,
    )
