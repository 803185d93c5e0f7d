"""Read side of the rights chains: stored grants → contracts/ grants → validity now.

Validity is computed from the chain every time it is asked (Art. 22, 63(2)): revoking an
upstream grant invalidates everything beneath it with no second write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ChainValidity, RightGrant, Scope, validate_chain
from market.rights import repository
from market.rights.models import RightGrantRow


def to_contract_grant(row: RightGrantRow) -> RightGrant:
    """The stored grant as a `contracts` grant, validated (a grant that breaks a rule raises)."""
    values = (
        row.id,
        row.kind,
        row.holder_id,
        row.subject_kind,
        row.subject_id,
        row.parent_id,
        row.registration_id,
        tuple(row.purposes),
        row.territory,
        row.sublicensable,
        tuple(row.field_limits) if row.field_limits is not None else None,
        row.volume_limit,
        row.valid_from,
        row.valid_to,
        row.revoked_at,
    )
    try:
        return _contract_grant(*values)
    except TypeError:  # a value that cannot be a cache key (a malformed purpose): validate it anyway
        return _contract_grant.__wrapped__(*values)


# Every trade gate walks the seller's chain, each grant of it validated into a (frozen) contract
# grant: the same few grants, request after request. A grant whose stored values are the same
# is the same contract grant, so it is validated once (issue 21); a changed grant (revoked,
# say) has other values and is validated anew.
@lru_cache(maxsize=4096)
def _contract_grant(
    grant_id: uuid.UUID,
    kind: str,
    holder_id: uuid.UUID,
    subject_kind: str,
    subject_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    registration_id: uuid.UUID | None,
    purposes: tuple[str, ...],
    territory: str,
    sublicensable: bool,
    field_limits: tuple[str, ...] | None,
    volume_limit: int | None,
    valid_from: datetime,
    valid_to: datetime | None,
    revoked_at: datetime | None,
) -> RightGrant:
    return RightGrant(
        grant_id=str(grant_id),
        kind=kind,
        holder_id=str(holder_id),
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        parent_id=str(parent_id) if parent_id else None,
        registration_id=str(registration_id) if registration_id else None,
        scope=Scope(
            purposes=frozenset(purposes),
            territory=territory,
            sublicensable=sublicensable,
            field_limits=frozenset(field_limits) if field_limits is not None else None,
            volume_limit=volume_limit,
        ),
        valid_from=valid_from,
        valid_to=valid_to,
        revoked_at=revoked_at,
    )


class GrantRows(Mapping[str, RightGrant]):
    """Stored grants by id as a `contracts` grant index; a row is converted only when a chain
    walk reaches it, so validating one chain costs its depth, not the size of its tree."""

    def __init__(self, rows: Iterable[RightGrantRow]) -> None:
        self.rows = {str(row.id): row for row in rows}
        self._grants: dict[str, RightGrant] = {}

    def __getitem__(self, grant_id: str) -> RightGrant:
        grant = self._grants.get(grant_id)
        if grant is None:
            grant = self._grants[grant_id] = to_contract_grant(self.rows[grant_id])
        return grant

    def __contains__(self, grant_id: object) -> bool:
        return grant_id in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


async def resource_grants(session: AsyncSession, resource_id: uuid.UUID) -> list[RightGrantRow]:
    return await repository.tree_of(session, resource_id)


async def grant_index(session: AsyncSession, resource_id: uuid.UUID) -> GrantRows:
    """Every grant in the resource's rights tree, as a `contracts` grant index."""
    return GrantRows(await resource_grants(session, resource_id))


async def chain_validity(session: AsyncSession, grant_id: uuid.UUID, at: datetime) -> ChainValidity:
    """The grant's chain at `at`, read with its whole tree in one query."""
    return chain_validity_among(await repository.tree_containing(session, grant_id), grant_id, at)


def chain_validity_among(grants: Iterable[RightGrantRow], grant_id: uuid.UUID, at: datetime) -> ChainValidity:
    """The grant's chain at `at`, `grants` being every grant in its tree."""
    index = GrantRows(grants)
    if str(grant_id) not in index:
        raise LookupError(f"no grant {grant_id}")
    return validate_chain(str(grant_id), index, at)


def operating_right_among(
    grants: Iterable[RightGrantRow],
    *,
    holder_id: uuid.UUID,
    product_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    at: datetime,
) -> tuple[RightGrantRow, ChainValidity] | None:
    """The holder's operating right over the product among `grants` (of the trees of
    `resource_ids`: at least the product's operating rights and every grant above them),
    preferring one whose chain is valid now.

    Operating rights are over data products (数据产品经营权); a product built on several
    resources needs one over the product in each resource's tree, and the first failing
    one is reported.
    """
    if not resource_ids:
        return None
    rows = list(grants)
    candidates = [
        g
        for g in rows
        if g.kind == "operating"
        and g.holder_id == holder_id
        and g.subject_kind == "product"
        and g.subject_id == product_id
    ]
    chosen: tuple[RightGrantRow, ChainValidity] | None = None
    for resource_id in resource_ids:
        in_tree = [g for g in candidates if g.resource_id == resource_id]
        if not in_tree:
            return None
        index = GrantRows(g for g in rows if g.resource_id == resource_id)
        verdicts = [(g, validate_chain(str(g.id), index, at)) for g in in_tree]
        best = next((v for v in verdicts if v[1].valid), verdicts[0])
        if not best[1].valid:
            return best
        chosen = chosen or best
    return chosen
