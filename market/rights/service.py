"""Granting and revoking processing and operating rights (Art. 22, 63(2)).

Only the holder of a parent right grants under it; the contracts library decides whether the
child fits inside its parent. Revocation writes one row; what hangs beneath it is invalid by
computation.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ContractError, Purpose, RightGrant, check_new_grant, revocation_effect
from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Forbidden, InvalidInput, NotFound
from market.participants import service as participants
from market.rights import repository
from market.rights.models import RightGrantRow
from market.rights.schemas import GrantCreate
from market.rights.validity import grant_index, to_contract_grant
from market.settings import Settings

ALL_PURPOSES = sorted(p.value for p in Purpose)  # the one vocabulary (contracts)
# What to do instead, where the contract's own reason says only what is wrong.
CONTRACT_NEXT_STEPS = {
    "operating_needs_product": (
        "the operating right is a right to operate a data product (Art. 22): create the product "
        "first (POST /v1/products), then grant the operating right with "
        '"subject_kind": "product" and "subject_id": the product\'s id'
    ),
}

# "Is product P built on resource R?" Products live above rights (in the catalogue), so the
# catalogue registers how to answer it when it is imported.
ProductCheck = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[bool]]
_PRODUCT_CHECK: list[ProductCheck] = []


def register_product_check(check: ProductCheck) -> None:
    _PRODUCT_CHECK[:] = [check]


@dataclass(frozen=True)
class LicenceOutcome:
    """What a revocation did to one paid licence that rested on a revoked right."""

    licence_id: uuid.UUID
    order_id: uuid.UUID
    outcome: str  # "refund" (pro rata, by rule) | "dispute" (for an operator to decide)
    refund_minor: int  # refunded, or proposed to the operator with the dispute


@dataclass(frozen=True)
class RevokedRights:
    """A revocation about to be made. `revoked`: the grants revoked themselves; `invalidated`:
    every grant that invalidates, them included. `forced`: imposed
    on the holder (an operator, a cancelled or transferred registration) rather than chosen by
    the grantor. `refunds_accepted`: the grantor accepts that the paid licences it cuts are
    refunded (a voluntary revocation that would cut them is refused otherwise)."""

    revoked: tuple[uuid.UUID, ...]
    invalidated: tuple[uuid.UUID, ...]
    forced: bool
    refunds_accepted: bool
    actor: str
    reason: str


# What revoking rights does to the licences sold under them. Licences and money live above
# rights (delivery, payments), so the top layer registers it at import; it may refuse (409).
RevocationEffects = Callable[[AsyncSession, Settings, RevokedRights], Awaitable[list[LicenceOutcome]]]
_REVOCATION_EFFECTS: list[RevocationEffects] = []


def register_revocation_effects(effects: RevocationEffects) -> None:
    _REVOCATION_EFFECTS[:] = [effects]


async def _effects_of(
    session: AsyncSession, settings: Settings, revoked: RevokedRights
) -> list[LicenceOutcome]:
    if not _REVOCATION_EFFECTS or not revoked.invalidated:
        return []
    return await _REVOCATION_EFFECTS[0](session, settings, revoked)


async def issue_grant(session: AsyncSession, principal: Principal, data: GrantCreate) -> RightGrantRow:
    parent = await repository.get(session, data.parent_grant_id)
    if parent is None or (parent.holder_id != principal.participant_id and not principal.can_see_all()):
        raise NotFound("parent grant not found", fields=[("body.parent_grant_id", "no such grant of yours")])
    if parent.holder_id != principal.participant_id:
        raise Forbidden(
            "only the holder of the parent right can grant under it (Art. 22)",
            fields=[("body.parent_grant_id", "you do not hold this right")],
        )
    if await participants.find(session, data.holder_id) is None:
        raise NotFound("holder not found", fields=[("body.holder_id", "no such participant")])
    if data.subject_kind == "product":
        built_on = _PRODUCT_CHECK[0] if _PRODUCT_CHECK else None
        if built_on is None or not await built_on(session, data.subject_id, parent.resource_id):
            raise InvalidInput(
                "the product is not built on this resource",
                fields=[("body.subject_id", "not a product on the parent's resource")],
            )
    at = now()
    row = RightGrantRow(
        id=uuid.uuid4(),
        kind=data.kind,
        holder_id=data.holder_id,
        granted_by_id=principal.participant_id,
        resource_id=parent.resource_id,
        subject_kind=data.subject_kind,
        subject_id=data.subject_id,
        parent_id=parent.id,
        purposes=sorted(set(data.purposes)),
        territory=data.territory,
        sublicensable=data.sublicensable,
        field_limits=data.field_limits,
        volume_limit=data.volume_limit,
        valid_from=data.valid_from or at,
        valid_to=data.valid_to,
        created_at=at,
        updated_at=at,
    )
    index = await grant_index(session, parent.resource_id)
    try:
        proposed: RightGrant = to_contract_grant(row)
        problems = check_new_grant(
            index[str(parent.id)], proposed, str(principal.participant_id), at, grants=index
        )
    except ContractError as exc:
        # The contract's stable code goes last (and in `rule`): a message starts with what is
        # wrong and what to do, never with an internal identifier.
        reason = CONTRACT_NEXT_STEPS.get(exc.code, exc.reason)
        raise InvalidInput(
            f"{reason} ({exc.code})", fields=[(f"body.{exc.field}", reason)], extra={"rule": exc.code}
        ) from exc
    if problems:
        raise InvalidInput(
            "the grant does not fit its chain: " + "; ".join(f"{p.reason} ({p.code})" for p in problems),
            fields=[(f"body.{p.field}", f"link {p.grant_id}: {p.reason}") for p in problems],
        )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="grant.issued",
        subject_type="grant",
        subject_id=row.id,
        payload={
            "kind": row.kind,
            "holder_id": str(row.holder_id),
            "parent_id": str(parent.id),
            "resource_id": str(row.resource_id),
            "subject": f"{row.subject_kind}:{row.subject_id}",
            "purposes": row.purposes,
            "territory": row.territory,
            "sublicensable": row.sublicensable,
            "valid_to": row.valid_to,
        },
    )
    return row


async def root_holding_right(
    session: AsyncSession, *, resource_id: uuid.UUID, registration_id: uuid.UUID, holder_id: uuid.UUID
) -> RightGrantRow:
    """The holding right (数据资源持有权, Art. 22) a confirmed registration roots: the top of
    the resource's rights tree, over every purpose, sublicensable."""
    at = now()
    grant = RightGrantRow(
        kind="holding",
        holder_id=holder_id,
        resource_id=resource_id,
        subject_kind="resource",
        subject_id=resource_id,
        registration_id=registration_id,
        purposes=ALL_PURPOSES,
        territory="cross_border",
        sublicensable=True,
        valid_from=at,
        created_at=at,
        updated_at=at,
    )
    session.add(grant)
    await session.flush()
    return grant


async def revoke_holding_rights(
    session: AsyncSession, settings: Settings, resource_id: uuid.UUID, reason: str, *, actor: str
) -> list[str]:
    """Revoke the resource's live holding rights (its registration was transferred or
    cancelled); everything granted beneath them becomes invalid by computation. A forced
    revocation: the licences sold under them are refunded by rule or disputed."""
    await repository.lock_resource(session, resource_id)  # after the trades over it (tree_reads)
    holdings = await repository.live_holdings(session, resource_id)
    index = await grant_index(session, resource_id)
    invalidated: set[str] = set()
    for grant in holdings:
        invalidated |= revocation_effect(str(grant.id), index)
    revoked_rights = RevokedRights(
        tuple(g.id for g in holdings),
        tuple(uuid.UUID(g) for g in sorted(invalidated)),
        forced=True,
        refunds_accepted=True,
        actor=actor,
        reason=reason,
    )
    await _effects_of(session, settings, revoked_rights)
    revoked = []
    for grant in holdings:
        grant.revoked_at, grant.revocation_reason = now(), reason
        revoked.append(str(grant.id))
    return revoked


async def visible_grant(session: AsyncSession, principal: Principal, grant_id: uuid.UUID) -> RightGrantRow:
    grant = await repository.get(session, grant_id)
    if grant is None or not (
        principal.can_see_all() or principal.participant_id in (grant.holder_id, grant.granted_by_id)
    ):
        raise NotFound("grant not found")
    return grant


async def revoke_grant(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    grant_id: uuid.UUID,
    reason: str,
    *,
    refund_licences: bool = False,
) -> tuple[RightGrantRow, list[str], list[LicenceOutcome]]:
    """Revoke a grant and so everything beneath it. The grantor's own revocation is voluntary:
    refused (409) while paid licences rest on it, unless `refund_licences`; an operator's is
    forced. Either way no buyer stays paid and cut off (see `RevokedRights`)."""
    grant = await visible_grant(session, principal, grant_id)
    # After the trades over its data (market.rights.tree_reads); then as it is now, since another
    # revocation may have been waiting on the row too.
    await repository.lock_resource(session, grant.resource_id)
    await session.refresh(grant)
    grantor = principal.participant_id is not None and principal.participant_id == grant.granted_by_id
    if not (principal.has("operator") or grantor):
        raise Forbidden("only the grantor or an operator revokes a grant")
    if grant.revoked_at is not None:
        raise InvalidInput("the grant is already revoked", fields=[("path.grant_id", "revoked")])
    index = await grant_index(session, grant.resource_id)
    invalidated = revocation_effect(str(grant.id), index)
    revoked = RevokedRights(
        (grant.id,),
        tuple(uuid.UUID(g) for g in sorted(invalidated)),
        forced=not grantor,
        refunds_accepted=refund_licences,
        actor=principal.actor,
        reason=reason,
    )
    outcomes = await _effects_of(session, settings, revoked)
    grant.revoked_at, grant.revocation_reason = now(), reason
    affected = sorted(invalidated - {str(grant.id)})
    await record(
        session,
        actor=principal.actor,
        action="grant.revoked",
        subject_type="grant",
        subject_id=grant.id,
        payload={
            "reason": reason,
            "invalidated": affected,
            "forced": not grantor,
            "licences": [
                {"licence_id": str(o.licence_id), "outcome": o.outcome, "refund_minor": o.refund_minor}
                for o in outcomes
            ],
        },
    )
    return grant, affected, outcomes
