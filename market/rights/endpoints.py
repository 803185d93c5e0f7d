"""HTTP: grants, revocations and a resource's rights tree with each node's validity."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from contracts import RightsTreeNode, grant_to_odrl, tree
from market.auth.principal import Authenticated
from market.common.clock import now
from market.db.session import Session
from market.errors import Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.registry.models import DataResource
from market.rights import service
from market.rights.models import RightGrantRow
from market.rights.schemas import (
    GrantCreate,
    GrantOut,
    Revocation,
    RevocationOut,
    RightsTree,
    TreeNode,
)
from market.rights.validity import resource_grants, to_contract_grant

router = APIRouter(prefix="/v1", tags=["rights"])


def grant_out(g: RightGrantRow) -> GrantOut:
    return GrantOut.model_validate(g, from_attributes=True)


@router.post(
    "/grants",
    status_code=status.HTTP_201_CREATED,
    response_model=GrantOut,
    summary="Grant a processing or operating right under a right you hold (Art. 22)",
    responses=problem_responses(NotFound, Forbidden),
)
async def issue(
    data: GrantCreate, session: Session, principal: Authenticated, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "grants.create", data)
    if replayed := await call.replay():
        return replayed
    return await call.remember(grant_out(await service.issue_grant(session, principal, data)))


@router.get(
    "/grants/{grant_id}",
    response_model=GrantOut,
    responses=problem_responses(NotFound),
    summary="A grant (its holder, its grantor, operators)",
)
async def read(grant_id: uuid.UUID, session: Session, principal: Authenticated) -> GrantOut:
    return grant_out(await service.visible_grant(session, principal, grant_id))


@router.get(
    "/grants/{grant_id}/odrl",
    responses=problem_responses(NotFound),
    summary="The grant as ODRL 2.2 JSON-LD",
)
async def odrl(grant_id: uuid.UUID, session: Session, principal: Authenticated) -> dict[str, object]:
    grant = await service.visible_grant(session, principal, grant_id)
    assigner = str(grant.granted_by_id) if grant.granted_by_id else None
    return grant_to_odrl(to_contract_grant(grant), assigner_id=assigner)


@router.post(
    "/grants/{grant_id}/revocation",
    response_model=RevocationOut,
    summary="Revoke a grant; everything beneath it becomes invalid",
    responses=problem_responses(NotFound, Forbidden),
)
async def revoke(
    grant_id: uuid.UUID, data: Revocation, session: Session, principal: Authenticated
) -> RevocationOut:
    grant, affected = await service.revoke_grant(session, principal, grant_id, data.reason)
    return RevocationOut(grant=grant_out(grant), invalidated=affected)


@router.get(
    "/resources/{resource_id}/rights",
    response_model=RightsTree,
    responses=problem_responses(NotFound),
    summary="The rights tree of a resource with each grant's validity now",
)
async def rights_tree(resource_id: uuid.UUID, session: Session, principal: Authenticated) -> RightsTree:
    resource = await session.get(DataResource, resource_id)
    grants = await resource_grants(session, resource_id)
    if resource is None or not (
        principal.can_see_all()
        or principal.participant_id == resource.owner_id
        or any(g.holder_id == principal.participant_id for g in grants)
    ):
        raise NotFound("resource not found")
    rows = {str(g.id): g for g in grants}
    at = now()

    def node(n: RightsTreeNode) -> TreeNode:
        return TreeNode(
            grant=grant_out(rows[n.grant.grant_id]),
            valid=n.validity.valid,
            reason=str(n.validity.reason) if n.validity.reason else None,
            message=n.validity.message,
            children=[node(c) for c in n.children],
        )

    roots = tree({k: to_contract_grant(v) for k, v in rows.items()}, at)
    return RightsTree(resource_id=resource_id, at=at, roots=[node(r) for r in roots])
