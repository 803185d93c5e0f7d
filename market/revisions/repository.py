"""Every query of revisions (the resource table is joined read-only, to save a round trip)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.registry.models import DataResource
from market.revisions.models import LicenceRevision, Revision, RevisionFile
from market.revisions.states import RevisionStatus


async def revision(session: AsyncSession, revision_id: uuid.UUID, *, lock: bool = False) -> Revision | None:
    query = select(Revision).where(Revision.id == revision_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def revisions_of(session: AsyncSession, resource_id: uuid.UUID) -> list[Revision]:
    query = select(Revision).where(Revision.resource_id == resource_id).order_by(Revision.number)
    return list((await session.execute(query)).scalars())


async def lock_resource(session: AsyncSession, resource_id: uuid.UUID) -> None:
    """Serialises numbering a resource's revisions (SQLite's writers are serialised anyway)."""
    await session.execute(select(DataResource.id).where(DataResource.id == resource_id).with_for_update())


async def last_number(session: AsyncSession, resource_id: uuid.UUID) -> int:
    found = await session.scalar(select(func.max(Revision.number)).where(Revision.resource_id == resource_id))
    return int(found or 0)


async def files_of(session: AsyncSession, revision_ids: Collection[uuid.UUID]) -> list[RevisionFile]:
    if not revision_ids:
        return []
    query = (
        select(RevisionFile)
        .where(RevisionFile.revision_id.in_(list(revision_ids)))
        .order_by(RevisionFile.revision_id, RevisionFile.name)
    )
    return list((await session.execute(query)).scalars())


async def file_named(session: AsyncSession, revision_id: uuid.UUID, name: str) -> RevisionFile | None:
    query = select(RevisionFile).where(RevisionFile.revision_id == revision_id, RevisionFile.name == name)
    return (await session.execute(query)).scalar_one_or_none()


async def file_with_revision(
    session: AsyncSession, file_id: uuid.UUID
) -> tuple[RevisionFile, Revision] | None:
    query = select(RevisionFile, Revision).join(Revision, Revision.id == RevisionFile.revision_id)
    row = (await session.execute(query.where(RevisionFile.id == file_id))).one_or_none()
    return None if row is None else (row[0], row[1])


async def bytes_in(session: AsyncSession, revision_id: uuid.UUID, *, except_name: str | None = None) -> int:
    query = select(func.coalesce(func.sum(RevisionFile.size), 0)).where(
        RevisionFile.revision_id == revision_id
    )
    if except_name is not None:
        query = query.where(RevisionFile.name != except_name)
    return int(await session.scalar(query) or 0)


async def registered_revisions(session: AsyncSession, resource_ids: Sequence[uuid.UUID]) -> list[Revision]:
    """The finalised revisions whose manifest hash is their resource's registered fingerprint,
    newest first."""
    if not resource_ids:
        return []
    query = (
        select(Revision)
        .join(DataResource, DataResource.id == Revision.resource_id)
        .where(
            Revision.resource_id.in_(list(resource_ids)),
            Revision.status == RevisionStatus.FINALISED,
            DataResource.status == "registered",
            Revision.manifest_sha256 == DataResource.fingerprint_sha256,
        )
        .order_by(Revision.resource_id, Revision.number.desc())
    )
    return list((await session.execute(query)).scalars())


async def fingerprints(
    session: AsyncSession, resource_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str | None, str | None]]:
    """Each resource's (status, registered fingerprint, pending fingerprint)."""
    if not resource_ids:
        return {}
    query = select(
        DataResource.id,
        DataResource.status,
        DataResource.fingerprint_sha256,
        DataResource.pending_fingerprint_sha256,
    ).where(DataResource.id.in_(list(resource_ids)))
    return {row[0]: (row[1], row[2], row[3]) for row in await session.execute(query)}


async def licensed_revision_ids(session: AsyncSession, licence_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(LicenceRevision.revision_id).where(LicenceRevision.licence_id == licence_id)
    return list((await session.execute(query)).scalars())


async def finalised_between(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> list[Revision]:
    if not resource_ids:
        return []
    query = select(Revision).where(
        Revision.resource_id.in_(list(resource_ids)),
        Revision.status == RevisionStatus.FINALISED,
        Revision.finalised_at >= start,
        Revision.finalised_at < end,
    )
    return list((await session.execute(query)).scalars())


async def revisions_by_id(session: AsyncSession, revision_ids: Collection[uuid.UUID]) -> list[Revision]:
    if not revision_ids:
        return []
    query = select(Revision).where(Revision.id.in_(list(revision_ids))).order_by(Revision.number)
    return list((await session.execute(query)).scalars())


async def referenced_digests(session: AsyncSession, digests: Collection[str]) -> set[str]:
    """Those of `digests` some revision file still names."""
    if not digests:
        return set()
    query = select(RevisionFile.sha256).where(RevisionFile.sha256.in_(list(digests))).distinct()
    return set((await session.execute(query)).scalars())
