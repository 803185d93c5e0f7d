"""Queries on resources, registrations, objections and the calendar; tenant scoping of
resources in `readable_resources`."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.common.pagination import keyset_page
from market.registry.models import (
    CalendarDay,
    ConsentRecord,
    DataResource,
    NumberCounter,
    Objection,
    PersonalDataHold,
    Registration,
)
from market.rights.models import RightGrantRow


def readable_resources(principal: Principal) -> Select[DataResource]:
    """The resources the caller may read: its own; operators and auditors every one."""
    stmt = select(DataResource)
    if not principal.can_see_all():
        stmt = stmt.where(DataResource.owner_id == principal.participant_id)
    return stmt


async def resources_page(
    session: AsyncSession, principal: Principal, cursor: str | None, limit: int
) -> list[DataResource]:
    stmt = keyset_page(readable_resources(principal), DataResource, cursor, limit)
    return list((await session.execute(stmt)).scalars())


async def resource(
    session: AsyncSession, resource_id: uuid.UUID, *, lock: bool = False
) -> DataResource | None:
    return await session.get(DataResource, resource_id, with_for_update=lock)


async def resources_with_rights_trees(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> tuple[list[DataResource], list[RightGrantRow]]:
    """The resources (by id) and every grant in their rights trees, in one query.
    `resource_ids` may be a subquery, so the caller's own lookup joins in."""
    stmt = (
        select(DataResource, RightGrantRow)
        .outerjoin(RightGrantRow, RightGrantRow.resource_id == DataResource.id)
        .where(DataResource.id.in_(resource_ids))
        .order_by(DataResource.id)
    )
    rows = (await session.execute(stmt)).all()
    resources = list(dict.fromkeys(r for r, _ in rows))
    return resources, [g for _, g in rows if g is not None]


async def registration(
    session: AsyncSession, registration_id: uuid.UUID, *, lock: bool = False
) -> Registration | None:
    return await session.get(Registration, registration_id, with_for_update=lock, populate_existing=lock)


async def publicity_ended(
    session: AsyncSession, at: datetime, *, limit: int, skip: Iterable[uuid.UUID] = ()
) -> list[Registration]:
    """Registrations in publicity whose period ended by `at`, locked; rows another transaction
    holds are skipped (PostgreSQL; SQLite has one writer at a time anyway)."""
    stmt = (
        select(Registration)
        .where(Registration.status == "publicity", Registration.publicity_ends_at <= at)
        .order_by(Registration.publicity_ends_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    skipped = list(skip)
    if skipped:
        stmt = stmt.where(Registration.id.not_in(skipped))
    return list((await session.execute(stmt)).scalars())


REGISTRATION_SEQUENCE = "registration_numbers"
REGISTRATION_COUNTER = "registration"


async def next_registration_sequence(session: AsyncSession) -> int:
    """The next registration number: a PostgreSQL sequence (concurrent finalisers never draw the
    same one); on SQLite a counter row incremented under the database's single write lock."""
    if session.get_bind().dialect.name == "postgresql":
        return int(await session.scalar(text(f"SELECT nextval('{REGISTRATION_SEQUENCE}')")) or 0)
    drawn = await session.scalar(
        update(NumberCounter)
        .where(NumberCounter.name == REGISTRATION_COUNTER)
        .values(value=NumberCounter.value + 1)
        .returning(NumberCounter.value)
    )
    if drawn is None:
        session.add(NumberCounter(name=REGISTRATION_COUNTER, value=1))
        await session.flush()
        return 1
    return int(drawn)


async def open_objections(session: AsyncSession) -> list[Objection]:
    stmt = select(Objection).where(Objection.status == "open").order_by(Objection.due_at)
    return list((await session.execute(stmt)).scalars())


async def by_number(session: AsyncSession, registration_number: str) -> Registration | None:
    stmt = select(Registration).where(Registration.registration_number == registration_number).limit(1)
    return (await session.execute(stmt)).scalars().first()


async def objections(session: AsyncSession, *, open_only: bool) -> list[Objection]:
    stmt = select(Objection).order_by(Objection.due_at)
    if open_only:
        stmt = stmt.where(Objection.status == "open")
    return list((await session.execute(stmt)).scalars())


async def calendar_days(session: AsyncSession) -> list[CalendarDay]:
    return list((await session.execute(select(CalendarDay).order_by(CalendarDay.day))).scalars())


async def calendar_day_exists(session: AsyncSession, day: Any) -> bool:
    return await session.scalar(select(CalendarDay.id).where(CalendarDay.day == day)) is not None


async def certified_registrations(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID]
) -> list[Registration]:
    """The registrations in force (registered, with a certificate) of these resources."""
    if not resource_ids:
        return []
    stmt = (
        select(Registration)
        .where(
            Registration.resource_id.in_(resource_ids),
            Registration.status == "registered",
            Registration.registration_number.is_not(None),
        )
        .order_by(Registration.registration_number)
    )
    # A JSON column's "no certificate" may be SQL NULL or JSON null: decided here, not in SQL.
    return [r for r in (await session.execute(stmt)).scalars() if r.certificate]


async def registrations_of(session: AsyncSession, resource_id: uuid.UUID) -> list[Registration]:
    stmt = (
        select(Registration).where(Registration.resource_id == resource_id).order_by(Registration.created_at)
    )
    return list((await session.execute(stmt)).scalars())


async def consent_records(session: AsyncSession, resource_id: uuid.UUID) -> list[ConsentRecord]:
    stmt = (
        select(ConsentRecord)
        .where(ConsentRecord.resource_id == resource_id)
        .order_by(ConsentRecord.version.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def current_consent_records(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> dict[uuid.UUID, ConsentRecord]:
    """The version in force of each resource's consent record (those that have one)."""
    stmt = select(ConsentRecord).where(
        ConsentRecord.resource_id.in_(resource_ids), ConsentRecord.superseded_at.is_(None)
    )
    return {r.resource_id: r for r in (await session.execute(stmt)).scalars()}


async def holds(session: AsyncSession, resource_id: uuid.UUID) -> list[PersonalDataHold]:
    stmt = (
        select(PersonalDataHold)
        .where(PersonalDataHold.resource_id == resource_id)
        .order_by(PersonalDataHold.placed_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def hold(
    session: AsyncSession, resource_id: uuid.UUID, cause_type: str, cause_id: uuid.UUID
) -> PersonalDataHold | None:
    stmt = select(PersonalDataHold).where(
        PersonalDataHold.resource_id == resource_id,
        PersonalDataHold.cause_type == cause_type,
        PersonalDataHold.cause_id == cause_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def resources_on_hold(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> set[uuid.UUID]:
    """Which of these resources have a personal-data hold not yet released."""
    stmt = select(PersonalDataHold.resource_id).where(
        PersonalDataHold.resource_id.in_(resource_ids), PersonalDataHold.released_at.is_(None)
    )
    return set((await session.execute(stmt)).scalars())


async def application_in_progress(session: AsyncSession, resource_id: uuid.UUID) -> Registration | None:
    stmt = select(Registration).where(
        Registration.resource_id == resource_id, Registration.status.in_(("submitted", "publicity"))
    )
    return (await session.execute(stmt)).scalars().first()


async def resources_by_id(session: AsyncSession, resource_ids: Collection[uuid.UUID]) -> list[DataResource]:
    if not resource_ids:
        return []
    stmt = select(DataResource).where(DataResource.id.in_(list(resource_ids)))
    return list((await session.execute(stmt)).scalars())
