"""Revisions: a seller's dataset as immutable sets of files, and what a licence covers.

An upload never holds a database transaction: `uploads.store_stream` writes the bytes to the
blob store first (hashed and counted as they arrive), then `record_file` records them in one
short transaction. A revision is finalised once; its manifest hash (manifest.py) becomes the
resource's fingerprint as the sample upload would make it: the fingerprint of a draft
resource, or the pending fingerprint of a registered one, which then needs a registration
change (Art. 62) before the revision is delivered as the registered data.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, InvalidInput, MarketError, NotFound
from market.registry import resources
from market.registry.models import DataResource
from market.revisions import repository
from market.revisions.manifest import ManifestEntry, fingerprint, manifest_bytes
from market.revisions.models import LicenceRevision, Revision, RevisionFile
from market.revisions.states import REVISIONS, RevisionStatus


class TooLarge(MarketError):
    code, title, status = "payload-too-large", "Payload too large", 413


class RevisionFinalised(Conflict):
    code = "revision-finalised"


# How a revision stands to the registration of its resource (see RevisionView).
Registration = Literal["registered", "pending", "unregistered"]


@dataclass(frozen=True)
class RevisionView:
    revision: Revision
    files: list[RevisionFile]
    # "registered": its manifest hash is the resource's registered fingerprint; "pending": it
    # awaits a registration change; "unregistered": neither.
    registration: Registration


async def _own_resource(session: AsyncSession, principal: Principal, resource_id: uuid.UUID) -> DataResource:
    """The resource, if the caller holds it (anyone else learns nothing: 404)."""
    resource = await resources.get_resource(session, principal, resource_id)
    if resource.owner_id != principal.participant_id:
        raise NotFound("resource not found")
    return resource


async def _revision_of(
    session: AsyncSession, resource_id: uuid.UUID, revision_id: uuid.UUID, *, lock: bool = False
) -> Revision:
    revision = await repository.revision(session, revision_id, lock=lock)
    if revision is None or revision.resource_id != resource_id:
        raise NotFound("revision not found")
    return revision


def _registration(revision: Revision, resource: tuple[str, str | None, str | None] | None) -> Registration:
    if revision.manifest_sha256 is None or resource is None:
        return "unregistered"
    status, registered, pending = resource
    if status == "registered" and revision.manifest_sha256 == registered:
        return "registered"
    if revision.manifest_sha256 in (pending, registered):
        return "pending"
    return "unregistered"


async def _views(session: AsyncSession, revisions: Sequence[Revision]) -> list[RevisionView]:
    files = await repository.files_of(session, [r.id for r in revisions])
    prints = await repository.fingerprints(session, {r.resource_id for r in revisions})
    return [
        RevisionView(
            r, [f for f in files if f.revision_id == r.id], _registration(r, prints.get(r.resource_id))
        )
        for r in revisions
    ]


async def create_revision(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> RevisionView:
    resource = await _own_resource(session, principal, resource_id)
    if resource.status not in ("draft", "registered"):
        raise InvalidInput(
            f"a {resource.status} resource takes no new revision",
            fields=[("path.resource_id", resource.status)],
        )
    await repository.lock_resource(session, resource_id)
    revision = Revision(
        resource_id=resource_id,
        number=await repository.last_number(session, resource_id) + 1,
        status=RevisionStatus.DRAFT,
        created_at=now(),
    )
    session.add(revision)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="revision.created",
        subject_type="resource",
        subject_id=resource_id,
        payload={"revision_id": str(revision.id), "number": revision.number},
    )
    return RevisionView(revision, [], "unregistered")


async def list_revisions(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> list[RevisionView]:
    await resources.get_resource(session, principal, resource_id)  # owner or staff
    return await _views(session, await repository.revisions_of(session, resource_id))


async def get_revision(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, revision_id: uuid.UUID
) -> RevisionView:
    await resources.get_resource(session, principal, resource_id)
    return (await _views(session, [await _revision_of(session, resource_id, revision_id)]))[0]


def _entries(files: Sequence[RevisionFile]) -> list[ManifestEntry]:
    return [ManifestEntry(f.name, f.media_type, f.size, f.sha256) for f in files]


async def manifest_of(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, revision_id: uuid.UUID
) -> bytes:
    """The canonical manifest of a finalised revision (its SHA-256 is the fingerprint)."""
    view = await get_revision(session, principal, resource_id, revision_id)
    if view.revision.status != RevisionStatus.FINALISED:
        raise Conflict("a draft revision has no manifest yet: finalise it first", code="revision-draft")
    return manifest_bytes(_entries(view.files))


@dataclass(frozen=True)
class UploadRoom:
    """Checked before the body is read: the draft revision exists and is the caller's, and how
    many bytes the file may have (the per-file limit, or what is left of the revision's)."""

    revision_id: uuid.UUID
    limit: int


def check_name(name: str) -> str:
    cleaned = name.strip()
    if (
        not cleaned
        or len(cleaned) > 255
        or cleaned in (".", "..")
        or any(c in cleaned for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in cleaned)
    ):
        raise InvalidInput(
            "a file name is 1 to 255 characters, without slashes or control characters",
            fields=[("query.name", "invalid file name")],
        )
    return cleaned


# type "/" subtype, as RFC 6838 §4.2 restricts their names (parameters are not kept).
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")


def check_media_type(given: str | None) -> str:
    """The file's media type without parameters (`text/csv; charset=utf-8` -> `text/csv`);
    application/octet-stream when none is given."""
    kind = (given or "application/octet-stream").split(";")[0].strip().lower()
    if not _MEDIA_TYPE.match(kind):
        raise InvalidInput(
            "a media type such as text/csv (RFC 6838)", fields=[("query.media_type", "invalid media type")]
        )
    return kind


async def upload_room(
    session: AsyncSession,
    principal: Principal,
    resource_id: uuid.UUID,
    revision_id: uuid.UUID,
    name: str,
    *,
    file_limit: int,
    revision_limit: int,
    declared: int | None,
) -> UploadRoom:
    await _own_resource(session, principal, resource_id)
    revision = await _revision_of(session, resource_id, revision_id)
    if revision.status != RevisionStatus.DRAFT:
        raise RevisionFinalised("a finalised revision is immutable: upload into a new revision")
    left = revision_limit - await repository.bytes_in(session, revision_id, except_name=name)
    limit = min(file_limit, left)
    if declared is not None and declared > limit:
        raise too_large(limit, file_limit)
    return UploadRoom(revision_id, limit)


def too_large(limit: int, file_limit: int) -> TooLarge:
    what = (
        f"the file limit of {file_limit} bytes"
        if limit >= file_limit
        else "what is left of the revision limit"
    )
    return TooLarge(
        f"the file exceeds {what} ({limit} bytes); nothing was stored",
        fields=[("body", f"larger than {limit} bytes")],
    )


async def record_file(
    session: AsyncSession,
    principal: Principal,
    resource_id: uuid.UUID,
    revision_id: uuid.UUID,
    *,
    name: str,
    media_type: str,
    size: int,
    sha256: str,
    revision_limit: int,
) -> RevisionFile:
    """The short transaction after the bytes are stored: the file's row (replacing a file of
    the same name in the draft), checked again against the revision's state and limit."""
    await _own_resource(session, principal, resource_id)
    revision = await _revision_of(session, resource_id, revision_id, lock=True)
    if revision.status != RevisionStatus.DRAFT:
        raise RevisionFinalised(
            "the revision was finalised while the file was uploaded; nothing was recorded"
        )
    if await repository.bytes_in(session, revision_id, except_name=name) + size > revision_limit:
        raise TooLarge(
            f"the revision would exceed its limit of {revision_limit} bytes; nothing was recorded",
            fields=[("body", "over the revision limit")],
        )
    row = await repository.file_named(session, revision_id, name)
    replaced = row is not None
    if row is None:
        row = RevisionFile(revision_id=revision_id, name=name)
        session.add(row)
    row.media_type, row.size, row.sha256, row.created_at = media_type, size, sha256, now()
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="revision.file_uploaded",
        subject_type="resource",
        subject_id=resource_id,
        payload={
            "revision_id": str(revision_id),
            "file_id": str(row.id),
            "name": name,
            "media_type": media_type,
            "size": size,
            "sha256": sha256,
            "replaced": replaced,
        },
    )
    return row


async def finalise(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, revision_id: uuid.UUID, *, limit: int
) -> RevisionView:
    """Freeze the revision and record its manifest hash as the resource's fingerprint (or as
    the pending one, for a registered resource: a registration change certifies it)."""
    resource = await _own_resource(session, principal, resource_id)
    revision = await _revision_of(session, resource_id, revision_id, lock=True)
    REVISIONS.check(revision.status, RevisionStatus.FINALISED)
    files = await repository.files_of(session, [revision_id])
    if not files:
        raise InvalidInput("a revision needs at least one file", fields=[("path.revision_id", "no files")])
    manifest = manifest_bytes(_entries(files))
    revision.manifest_sha256 = fingerprint(_entries(files))
    revision.status = RevisionStatus.FINALISED
    revision.finalised_at = now()
    await record(
        session,
        actor=principal.actor,
        action="revision.finalised",
        subject_type="resource",
        subject_id=resource_id,
        payload={
            "revision_id": str(revision.id),
            "number": revision.number,
            "manifest_sha256": revision.manifest_sha256,
            "files": len(files),
            "bytes": sum(f.size for f in files),
        },
    )
    if resource.status in ("draft", "registered"):
        # The manifest is the "sample or manifest" the registry fingerprints.
        sha256, size = await resources.hash_sample(_once(manifest), revision.manifest_sha256, limit)
        await resources.record_sample(session, principal, resource_id, sha256, size)
        await session.flush()  # the fingerprint is read back below
    return (await _views(session, [revision]))[0]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


# What a licence covers -----------------------------------------------------------------------


async def record_purchase(
    session: AsyncSession, licence_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """At issue: the revisions current at purchase, the newest registered one of each resource."""
    newest: dict[uuid.UUID, Revision] = {}
    for revision in await repository.registered_revisions(session, resource_ids):
        newest.setdefault(revision.resource_id, revision)
    for revision in newest.values():
        session.add(LicenceRevision(licence_id=licence_id, revision_id=revision.id))
    return [r.id for r in newest.values()]


async def covered(
    session: AsyncSession,
    licence_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    *,
    subscription: bool,
    term: tuple[datetime, datetime],
) -> list[RevisionView]:
    """The revisions a licence covers: those it was issued for, and for a subscription every
    registered revision finalised during its term so far."""
    ids = set(await repository.licensed_revision_ids(session, licence_id))
    if subscription:
        start, end = term[0], min(term[1], now())
        during = {r.id for r in await repository.finalised_between(session, resource_ids, start, end)}
        ids |= during & {r.id for r in await repository.registered_revisions(session, resource_ids)}
    return await _views(session, await repository.revisions_by_id(session, ids))


async def file_of(session: AsyncSession, file_id: uuid.UUID) -> tuple[RevisionFile, Revision] | None:
    return await repository.file_with_revision(session, file_id)


async def unreferenced(session: AsyncSession, digests: Sequence[str]) -> set[str]:
    return set(digests) - await repository.referenced_digests(session, digests)
