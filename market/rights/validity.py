"""Read side of the rights chains: stored grants → contracts/ grants → validity now.

Validity is computed from the chain every time it is asked (Art. 22, 63(2)): revoking an
upstream grant invalidates everything beneath it with no second write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ChainValidity, RightGrant, Scope, validate_chain
from market.rights.models import RightGrantRow


def to_contract_grant(row: RightGrantRow) -> RightGrant:
    return RightGrant(
        grant_id=str(row.id),
        kind=row.kind,
        holder_id=str(row.holder_id),
        subject_kind=row.subject_kind,
        subject_id=str(row.subject_id),
        parent_id=str(row.parent_id) if row.parent_id else None,
        registration_id=str(row.registration_id) if row.registration_id else None,
        scope=Scope(
            purposes=frozenset(row.purposes),
            territory=row.territory,
            sublicensable=row.sublicensable,
            field_limits=frozenset(row.field_limits) if row.field_limits is not None else None,
            volume_limit=row.volume_limit,
        ),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        revoked_at=row.revoked_at,
    )


async def resource_grants(session: AsyncSession, resource_id: uuid.UUID) -> list[RightGrantRow]:
    stmt = select(RightGrantRow).where(RightGrantRow.resource_id == resource_id)
    return list((await session.execute(stmt)).scalars())


async def chain_validity(session: AsyncSession, grant_id: uuid.UUID, at: datetime) -> ChainValidity:
    grant = await session.get(RightGrantRow, grant_id)
    if grant is None:
        raise LookupError(f"no grant {grant_id}")
    index = {str(g.id): to_contract_grant(g) for g in await resource_grants(session, grant.resource_id)}
    return validate_chain(str(grant_id), index, at)


async def operating_right_for(
    session: AsyncSession,
    *,
    holder_id: uuid.UUID,
    product_id: uuid.UUID | None,
    resource_ids: Sequence[uuid.UUID],
    at: datetime,
) -> tuple[RightGrantRow, ChainValidity] | None:
    """The holder's operating right over the product, preferring one whose chain is valid now.

    Operating rights are over data products (数据产品经营权); a product built on several
    resources needs one over the product in each resource's tree, and the first failing
    one is reported.
    """
    if product_id is None or not resource_ids:
        return None
    stmt = select(RightGrantRow).where(
        RightGrantRow.kind == "operating",
        RightGrantRow.holder_id == holder_id,
        RightGrantRow.subject_kind == "product",
        RightGrantRow.subject_id == product_id,
        RightGrantRow.resource_id.in_(list(resource_ids)),
    )
    candidates = list((await session.execute(stmt)).scalars())
    chosen: tuple[RightGrantRow, ChainValidity] | None = None
    for resource_id in resource_ids:
        in_tree = [g for g in candidates if g.resource_id == resource_id]
        if not in_tree:
            return None
        index = {str(g.id): to_contract_grant(g) for g in await resource_grants(session, resource_id)}
        verdicts = [(g, validate_chain(str(g.id), index, at)) for g in in_tree]
        best = next((v for v in verdicts if v[1].valid), verdicts[0])
        if not best[1].valid:
            return best
        chosen = chosen or best
    return chosen
