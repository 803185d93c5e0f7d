"""Rights chains: is a grant valid at a moment, and may a new grant be issued.

A grant is valid at a moment only if every grant from it up to the registered holding
right is in force then, and every link obeys the Art. 22 rules in `contracts.links`
(kinds, subject, sublicensing, scope within parent, term within parent). A trade resting
on anything less lacks the rights holder's authorisation (Art. 63(2)).

Revocation is never stored on descendants: revoking a grant makes every grant below it
invalid because validity is always computed through the whole chain (what a revocation
reaches, and the displayed tree, live in `contracts.trees`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise

from pydantic import AwareDatetime, BaseModel, ConfigDict

from contracts.errors import ContractError
from contracts.links import FaultCode, LinkFault, activity_fault, link_faults, root_fault
from contracts.rights import RightGrant, RightKind

GrantIndex = Mapping[str, RightGrant]


class ChainValidity(BaseModel):
    """The verdict on one grant's chain at one moment.

    `chain` lists grant ids root-first (for a cycle or a missing parent: as far as the
    walk got, farthest first). When invalid, `failing_grant_id`, `reason`, `field` and
    `message` name the link nearest the root that breaks the chain.
    """

    model_config = ConfigDict(frozen=True)

    grant_id: str
    at: AwareDatetime
    valid: bool
    chain: tuple[str, ...]
    registration_id: str | None = None
    failing_grant_id: str | None = None
    reason: FaultCode | None = None
    field: str | None = None
    message: str | None = None


class Problem(BaseModel):
    """One reason a proposed grant may not be issued: the link and field at fault."""

    model_config = ConfigDict(frozen=True)

    code: FaultCode
    grant_id: str
    field: str
    reason: str


def require_aware(at: datetime) -> None:
    """Refuse naive datetimes: every moment in the exchange is timezone-aware UTC."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ContractError("naive_datetime", "at", "times must be timezone-aware (UTC)")


def validate_chain(grant_id: str, grants: GrantIndex, at: datetime) -> ChainValidity:
    """Validate `grant_id` and its ancestors at `at`; O(depth) lookups in `grants`.

    Each grant is looked up exactly once while walking towards the root; a grant seen
    twice means a cycle, reported as `FaultCode.CYCLE` rather than looping.
    """
    require_aware(at)
    path: list[RightGrant] = []  # leaf first, while walking up
    seen: set[str] = set()
    current = grant_id
    while True:
        grant = grants.get(current)
        if grant is None:
            if not path:
                fault = LinkFault(FaultCode.UNKNOWN_GRANT, "grant_id", f"no grant {current!r}")
                return _invalid(grant_id, at, (), grant_id, fault)
            fault = LinkFault(
                FaultCode.MISSING_PARENT,
                "parent_id",
                f"parent grant {current!r} is not on record; the chain cannot be traced "
                "to the rights holder (Art. 63(2))",
            )
            return _invalid(grant_id, at, _ids(path), path[-1].grant_id, fault)
        path.append(grant)
        seen.add(current)
        if grant.parent_id is None:
            break
        if grant.parent_id in seen:
            fault = LinkFault(
                FaultCode.CYCLE,
                "parent_id",
                f"grant {grant.grant_id!r} points back to {grant.parent_id!r}: the chain is a "
                "cycle and never reaches a registered holder (Art. 22, Art. 63(2))",
            )
            return _invalid(grant_id, at, _ids(path), grant.grant_id, fault)
        current = grant.parent_id

    chain = path[::-1]
    ids = _ids(path)
    root = chain[0]
    found = root_fault(root) or activity_fault(root, at)
    if found is not None:
        return _invalid(grant_id, at, ids, root.grant_id, found)
    for parent, child in pairwise(chain):
        faults = link_faults(parent, child)
        found = faults[0] if faults else activity_fault(child, at)
        if found is not None:
            return _invalid(grant_id, at, ids, child.grant_id, found)
    return ChainValidity(
        grant_id=grant_id, at=at, valid=True, chain=ids, registration_id=root.registration_id
    )


def _ids(leaf_first: list[RightGrant]) -> tuple[str, ...]:
    return tuple(g.grant_id for g in reversed(leaf_first))


def _invalid(
    grant_id: str, at: datetime, chain: tuple[str, ...], failing: str, fault: LinkFault
) -> ChainValidity:
    return ChainValidity(
        grant_id=grant_id,
        at=at,
        valid=False,
        chain=chain,
        failing_grant_id=failing,
        reason=fault.code,
        field=fault.field,
        message=fault.message,
    )


def check_new_grant(
    parent: RightGrant | None,
    proposed: RightGrant,
    grantor_id: str,
    at: datetime,
    *,
    grants: GrantIndex,
) -> list[Problem]:
    """Every reason `grantor_id` may not issue `proposed` out of `parent` at `at`.

    Empty means it may be issued. `grants` is the current index (needed to validate the
    parent's chain and to see whether a holding right has been transferred away). With
    `parent=None` the proposal must be a root holding right on a registration; who may
    register is the registry's decision, so `grantor_id` is not compared then.
    A validated proposal, once stored, is valid from its `valid_from` (the same link
    rules decide both).
    """
    require_aware(at)
    pid = proposed.grant_id
    problems: list[Problem] = []

    def add(code: FaultCode, grant_id: str, field: str, reason: str) -> None:
        problems.append(Problem(code=code, grant_id=grant_id, field=field, reason=reason))

    if pid in grants:
        add(FaultCode.DUPLICATE_GRANT, pid, "grant_id", f"grant {pid!r} already exists")
    if proposed.revoked_at is not None:
        add(FaultCode.ALREADY_REVOKED, pid, "revoked_at", "a new grant cannot be already revoked")
    if proposed.valid_to is not None and proposed.valid_to <= at:
        add(
            FaultCode.EXPIRED,
            pid,
            "valid_to",
            f"the proposed term ends at {proposed.valid_to.isoformat()}, before it is issued; "
            "it could never authorise anything (Art. 63(2))",
        )
    if parent is None:
        if root_fault(proposed) is not None or proposed.parent_id is not None:
            add(
                FaultCode.NOT_ROOTED,
                pid,
                "parent_id",
                "only a holding right on a registration may be issued without a parent (Art. 22, Art. 62)",
            )
        return problems

    if proposed.parent_id != parent.grant_id:
        add(
            FaultCode.PARENT_MISMATCH,
            pid,
            "parent_id",
            f"proposal names parent {proposed.parent_id!r}, not {parent.grant_id!r}",
        )
    if grantor_id != parent.holder_id:
        add(
            FaultCode.GRANTOR_NOT_HOLDER,
            parent.grant_id,
            "holder_id",
            f"{grantor_id!r} does not hold {parent.grant_id!r}; only the lawful rights holder "
            "may authorise (Art. 63(2))",
        )
    validity = validate_chain(parent.grant_id, grants, at)
    if not validity.valid:
        add(
            FaultCode.PARENT_INVALID,
            validity.failing_grant_id or parent.grant_id,
            validity.field or "parent_id",
            f"parent chain invalid ({validity.reason}): {validity.message}",
        )
    for fault in link_faults(parent, proposed):
        add(fault.code, pid, fault.field, fault.message)
    if parent.kind is RightKind.HOLDING and _transferred(parent.grant_id, grants, at):
        add(
            FaultCode.HOLDING_TRANSFERRED,
            parent.grant_id,
            "parent_id",
            "this holding right has been transferred; only the transferee may grant from it now (Art. 22)",
        )
    return problems


def _transferred(holding_id: str, grants: GrantIndex, at: datetime) -> bool:
    # O(n), but only at issue time. validate_chain does not check this (it walks up, not
    # down): grants issued before the transfer stay valid, the transferee takes subject
    # to them.
    return any(
        g.parent_id == holding_id and g.kind is RightKind.HOLDING and g.is_active(at) for g in grants.values()
    )
