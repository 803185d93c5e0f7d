"""Queries on compliance decisions and the facts on file."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy import Select, Table, and_, bindparam, exists, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement, Label

from market.common.pagination import keyset_page
from market.compliance.models import ComplianceDecisionRow, OpenApplication, SecurityAssessment
from market.db.detached import columns_of, detached
from market.db.direct import Direct
from market.participants.models import Participant
from market.registry.models import ConsentRecord, DataResource, PersonalDataHold
from market.rights.models import RightGrantRow


@dataclass(frozen=True)
class RulesRead:
    """What the rules read of the parties and the resources of a listing or trade."""

    participants: dict[uuid.UUID, Participant]
    resources: list[DataResource]
    # The grants a trade of the product stands on, in the resources' rights trees: their
    # holding rights, and the product's operating rights with every grant above them.
    grants: list[RightGrantRow]
    consent_records: dict[uuid.UUID, ConsentRecord]  # each resource's record in force
    on_hold: set[uuid.UUID]  # resources under a personal-data hold not yet released
    # The buyer's approved conditional-open applications (Art. 35) and cross-border filings in
    # force for these resources (empty when no buyer was named).
    approvals: list[OpenApplication]
    filings: list[SecurityAssessment]
    # The row of a read sent in the same statement (`Leading`), or None (not asked, or no row).
    leading: tuple[Any, ...] | None = None
    # The instant the buyer's files were read in force at, when they were read.
    at: datetime | None = None


@dataclass(frozen=True)
class Subquery:
    """A subquery naming rows by its bound parameters (a product's resource ids). The statement
    is one object for every product, so the query embedding it is built and compiled once."""

    statement: Select[Any]
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Leading:
    """A read of the caller's sent in the same statement as the rules' facts, one round trip
    instead of two (issue 21: a quote's product): its row, if any, is `RulesRead.leading`. It
    is that statement's first read, so it carries the request's rider (market.db.direct)."""

    statement: Select[Any]
    params: Mapping[str, Any]


# How a trade's facts read locks its resources' rows (PostgreSQL), against a revocation of a
# right over them, which locks them FOR UPDATE first (market.rights.tree_reads):
# - "exclusive_claim", an exclusive order's: FOR NO KEY UPDATE, so it waits for every order
#   over the same data and they for it (an exclusive claim clashes with any other claim);
# - "shared_claim", a non-exclusive order's: FOR SHARE, which other non-exclusive orders share
#   (their claims never clash with each other) and an exclusive order or a revocation waits for;
# - "settle", a payment's: FOR KEY SHARE, which waits for a revocation only, never for an order.
# Whichever claim lock is held, every claim that could clash with the new one was committed
# before the next statement's snapshot (market.orders.claims).
ResourceLock = Literal["exclusive_claim", "shared_claim", "settle"]
CLAIM_LOCKS: frozenset[ResourceLock] = frozenset({"exclusive_claim", "shared_claim"})


def lock_resource_rows(stmt: Select[Any], resource: Any, lock: ResourceLock) -> Select[Any]:
    """`stmt` locking `resource`'s rows as `lock` says."""
    if lock == "exclusive_claim":
        return stmt.with_for_update(of=resource, key_share=True)  # FOR NO KEY UPDATE
    if lock == "shared_claim":
        return stmt.with_for_update(of=resource, read=True)  # FOR SHARE
    return stmt.with_for_update(of=resource, read=True, key_share=True)  # FOR KEY SHARE


async def rules_read(
    session: AsyncSession,
    product_id: uuid.UUID,
    participant_ids: Sequence[uuid.UUID | Subquery],
    resource_ids: Subquery,
    *,
    buyer_files_at: tuple[uuid.UUID, datetime] | None = None,
    lock_resources: ResourceLock | None = None,
    leading: Leading | None = None,
) -> RulesRead:
    """The parties and the resources of `product_id`'s listing or trade with what it stands on
    in their rights trees (`RulesRead.grants`: not the rest of the trees, so a resource sold
    through many products or resellers costs a trade no more), consent records in force, holds
    and (`buyer_files_at`: the buyer and the time) the buyer's files on them, in one query
    (issue 21: the gate's facts in one round trip). Each party's row is joined to every
    resource, so `participant_ids` must name one that exists (the seller: a product's seller
    always does).

    `lock_resources`: the resources' rows are locked too, in id order (`ResourceLock`); a product
    with no resources then reads no parties either, and its trade is refused for want of them.

    A party may be named by a subquery (a product's seller, when the product is the `leading`
    read), which must then find one."""
    assert leading is None or lock_resources is None, "a locking read is not sent with another"
    shape = _RulesShape(
        tuple(p.statement if isinstance(p, Subquery) else None for p in participant_ids),
        buyer_files_at is not None,
        lock_resources,
        resource_ids.statement,
        None if leading is None else leading.statement,
    )
    query = _rules_query(shape)
    params = dict(resource_ids.params) | {"chains_of": product_id}
    for n, party in enumerate(participant_ids):
        params |= party.params if isinstance(party, Subquery) else {f"party_{n}": party}
    if buyer_files_at is not None:
        params |= {"files_of": buyer_files_at[0], "files_at": buyer_files_at[1]}
    if leading is not None:
        params |= leading.params
    rows = await query.statement.rows(session, params)
    first: tuple[Any, ...] | None = None
    if leading is not None:
        # Its row first (part 0), then the rules' (part 1); each part's columns in turn.
        width = len(leading.statement.selected_columns)
        if rows and rows[0][-1] == 0:
            first = rows[0][:width]
        rows = [row[width:-1] for row in rows if row[-1] == 1]
    found: list[dict[Any, Any]] = [{} for _ in query.entities]
    start = 0
    for cls, seen in zip(query.entities, found, strict=True):
        names = _READ[cls]
        attributes = columns_of(cls, names)[0]
        key = start + attributes.index("id")
        for row in rows:
            if (ident := row[key]) is not None and ident not in seen:
                seen[ident] = detached(cls, row[start : start + len(attributes)], names)
        start += len(attributes)
    held = {row[query.resource_key] for row in rows if row[query.resource_key] is not None and row[-1]}
    participants, resources, grants, consents, *files = (list(f.values()) for f in found)
    approvals, filings = files or ([], [])
    return RulesRead(
        participants={p.id: p for p in participants},
        resources=resources,
        grants=grants,
        consent_records={c.resource_id: c for c in consents},
        on_hold=held,
        approvals=approvals,
        filings=filings,
        leading=first,
        at=None if buyer_files_at is None else buyer_files_at[1],
    )


# What the rules read of each: the columns their facts are made of (market.compliance.gather),
# not every column (issue 21: the rows join the parties to every grant, so each column read is
# decoded a dozen times). Reading one not named here raises. The grants are read whole: the
# licence issued in the same transaction is derived from them (market.rights.tree_reads).
_READ: dict[type[Any], tuple[str, ...] | None] = {
    Participant: ("id", "credit_status", "jurisdiction"),
    DataResource: (
        "id",
        "category",
        "grade",
        "open_class",
        "personal_info",
        "sensitive_personal",
        "consent",
        "trade_secret",
        "security_tags",
    ),
    RightGrantRow: None,
    ConsentRecord: ("id", "resource_id", "people_covered", "sensitive_people_covered"),
    OpenApplication: ("id", "resource_id", "applicant_id", "purposes", "status"),
    SecurityAssessment: ("id", "resource_id", "recipient_id", "kind", "valid_until"),
}


@dataclass(frozen=True)
class _RulesShape:
    parties: tuple[Select[Any] | None, ...]  # each a subquery naming it, or None: a bound id
    buyer_files: bool
    lock_resources: ResourceLock | None
    resource_ids: Select[Any]
    leading: Select[Any] | None


@dataclass(frozen=True)
class _RulesQuery:
    statement: Direct
    entities: tuple[type[Any], ...]  # each one's columns (market.db.detached) in turn, then on_hold
    resource_key: int  # where in a row the resource's id is


def _table(cls: type[Any]) -> Table:
    return cast(Table, cls.__table__)


@cache
def _rules_query(shape: _RulesShape) -> _RulesQuery:
    """`rules_read`'s statement for one shape, its values bound as parameters: built once, so
    its compilation is too, and it is read directly (market.db.direct; issue 21). The columns are
    the tables', not the mapped entities: plain rows, with no ORM row loading set up per
    execution."""
    entities: list[type[Any]] = [Participant, DataResource, RightGrantRow, ConsentRecord]
    participant, resource, grant, consent, hold = map(
        _table, (Participant, DataResource, RightGrantRow, ConsentRecord, PersonalDataHold)
    )
    on_hold = (
        exists().where(hold.c.resource_id == resource.c.id, hold.c.released_at.is_(None)).label("on_hold")
    )
    in_force = and_(consent.c.resource_id == resource.c.id, consent.c.superseded_at.is_(None))
    stands_on = and_(
        grant.c.resource_id == resource.c.id,
        or_(grant.c.kind == "holding", grant.c.id.in_(_operating_chains(grant))),
    )
    joins = (
        participant.join(
            resource, resource.c.id.in_(shape.resource_ids), isouter=shape.lock_resources is None
        )
        .outerjoin(grant, stands_on)
        .outerjoin(consent, in_force)
    )
    if shape.buyer_files:
        application, assessment = _table(OpenApplication), _table(SecurityAssessment)
        buyer = bindparam("files_of", type_=application.c.applicant_id.type)
        at = bindparam("files_at", type_=assessment.c.valid_until.type)
        approved = and_(
            application.c.resource_id == resource.c.id,
            application.c.applicant_id == buyer,
            application.c.status == "approved",
        )
        filed = and_(
            assessment.c.resource_id == resource.c.id,
            assessment.c.recipient_id == buyer,
            assessment.c.valid_until > at,
        )
        joins = joins.outerjoin(application, approved).outerjoin(assessment, filed)
        entities += [OpenApplication, SecurityAssessment]
    parties = [
        bindparam(f"party_{n}", type_=participant.c.id.type) if named is None else named.scalar_subquery()
        for n, named in enumerate(shape.parties)
    ]
    stmt = (
        select(*(c for cls in entities for c in columns_of(cls, _READ[cls])[1]), on_hold)
        .select_from(joins)
        .where(participant.c.id.in_(parties))
        .order_by(resource.c.id)
    )
    if shape.lock_resources is not None:
        stmt = lock_resource_rows(stmt, resource, shape.lock_resources)
    if shape.leading is not None:
        stmt = _after(shape.leading, stmt, resource.c.id)
    resource_key = len(columns_of(Participant, _READ[Participant])[0]) + columns_of(
        DataResource, _READ[DataResource]
    )[0].index("id")
    # Sent with a leading read, it is the request's first: the caller's credential rides on it.
    return _RulesQuery(Direct(stmt, carries_riders=shape.leading is not None), tuple(entities), resource_key)


def _operating_chains(grant: Table) -> Select[Any]:
    """The ids of the operating rights over the product bound as `chains_of`, and of every grant
    above them (a cycle ends the walk: the chain's validation reports it)."""
    above = grant.alias("above")
    chains = (
        select(grant.c.id, grant.c.parent_id)
        .where(
            grant.c.kind == "operating",
            grant.c.subject_kind == "product",
            grant.c.subject_id == bindparam("chains_of", type_=grant.c.subject_id.type),
        )
        .cte("operating_chains", recursive=True)
    )
    chains = chains.union(
        select(above.c.id, above.c.parent_id).join(chains, above.c.id == chains.c.parent_id)
    )
    return select(chains.c.id)


def _after(leading: Select[Any], rules: Select[Any], order_by: ColumnElement[Any]) -> Select[Any]:
    """One statement of both reads: `leading`'s row (part 0, the rules' columns NULL), then the
    rules' rows (part 1, `leading`'s columns NULL) in `order_by`'s order; part last."""
    lead, rest = list(leading.selected_columns), list(rules.selected_columns)
    position = next(n for n, c in enumerate(rest) if c is order_by)

    def labelled(columns: Sequence[ColumnElement[Any]], part: int) -> list[Label[Any]]:
        return [c.label(f"c{n}") for n, c in enumerate(columns)] + [literal(part).label("part")]

    first = leading.with_only_columns(
        *labelled([*lead, *(sa.cast(null(), c.type) for c in rest)], 0), maintain_column_froms=True
    )
    second = rules.order_by(None).with_only_columns(
        *labelled([*(sa.cast(null(), c.type) for c in lead), *rest], 1), maintain_column_froms=True
    )
    both = union_all(first, second).subquery("facts")
    return select(*both.c).order_by(both.c.part, both.c[f"c{len(lead) + position}"])


async def decision(session: AsyncSession, decision_id: uuid.UUID) -> ComplianceDecisionRow | None:
    return await session.get(ComplianceDecisionRow, decision_id)


async def pending_review(
    session: AsyncSession, subject_type: str, subject_id: str
) -> ComplianceDecisionRow | None:
    """The newest decision on the subject still waiting for an operator, row-locked."""
    stmt = (
        select(ComplianceDecisionRow)
        .where(
            ComplianceDecisionRow.subject_type == subject_type,
            ComplianceDecisionRow.subject_id == subject_id,
            ComplianceDecisionRow.review_status == "pending",
        )
        .order_by(ComplianceDecisionRow.created_at.desc())
        .with_for_update()
    )
    return (await session.execute(stmt)).scalars().first()


def decisions(
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    outcome: str | None = None,
    pending_review_only: bool = False,
) -> Select[ComplianceDecisionRow]:
    stmt = select(ComplianceDecisionRow)
    if subject_type:
        stmt = stmt.where(ComplianceDecisionRow.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(ComplianceDecisionRow.subject_id == subject_id)
    if outcome:
        stmt = stmt.where(ComplianceDecisionRow.outcome == outcome)
    if pending_review_only:
        stmt = stmt.where(ComplianceDecisionRow.review_status == "pending")
    return stmt


async def decisions_page(
    session: AsyncSession, stmt: Select[ComplianceDecisionRow], cursor: str | None, limit: int
) -> list[ComplianceDecisionRow]:
    return list((await session.execute(keyset_page(stmt, ComplianceDecisionRow, cursor, limit))).scalars())
