"""Data resources: classified (Art. 21, 35, 82), with a fingerprint we compute from the upload."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal, ensure_visible
from market.common.clock import now
from market.errors import Conflict, Forbidden, InvalidInput, MarketError, NotFound
from market.registry import repository
from market.registry.models import DataResource
from market.registry.schemas import ResourceCreate
from market.rights.models import RightGrantRow


class FingerprintMismatch(InvalidInput):
    code = "fingerprint-mismatch"


class UploadTooLarge(MarketError):
    code, title, status = "payload-too-large", "Payload too large", 413


async def create_resource(session: AsyncSession, principal: Principal, data: ResourceCreate) -> DataResource:
    if principal.participant_id is None:
        raise Forbidden("resources belong to a participant")
    resource = DataResource(
        owner_id=principal.participant_id,
        **data.model_dump(mode="json"),
        status="draft",
        created_at=now(),
        updated_at=now(),
    )
    session.add(resource)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="resource.created",
        subject_type="resource",
        subject_id=resource.id,
        payload={
            "title": resource.title,
            "category": resource.category,
            "grade": resource.grade,
            "open_class": resource.open_class,
            "personal_info": resource.personal_info,
            "trade_secret": resource.trade_secret,
            "security_tags": resource.security_tags,
        },
    )
    return resource


async def get_resource(session: AsyncSession, principal: Principal, resource_id: uuid.UUID) -> DataResource:
    resource = await repository.resource(session, resource_id)
    if resource is None:
        raise NotFound("resource not found")
    ensure_visible(principal, resource.owner_id, "resource")
    return resource


async def find(session: AsyncSession, resource_id: uuid.UUID) -> DataResource | None:
    """A resource whatever its owner (for other features' rules, not for display)."""
    return await repository.resource(session, resource_id)


async def bind_price_class(
    session: AsyncSession, resource_id: uuid.UUID, data_class: str, *, actor: str, reason: str
) -> DataResource:
    """Bind a public resource to the guided catalogue class it is priced under (Art. 65): the
    operator's or price authority's act (the caller checks who), audited with the old class."""
    resource = await repository.resource(session, resource_id, lock=True)
    if resource is None:
        raise NotFound("resource not found")
    if resource.category != "public":
        raise InvalidInput(
            "only public data is priced under government guidance (Art. 65)",
            fields=[("path.resource_id", f"a {resource.category} resource")],
        )
    before = resource.price_catalogue_class
    resource.price_catalogue_class = data_class
    await record(
        session,
        actor=actor,
        action="resource.price_class_bound",
        subject_type="resource",
        subject_id=resource.id,
        payload={"data_class": data_class, "previous": before, "reason": reason},
    )
    return resource


async def find_many(session: AsyncSession, resource_ids: Collection[uuid.UUID]) -> list[DataResource]:
    """The resources among `resource_ids` that exist (for other features' rules)."""
    return await repository.resources_by_id(session, resource_ids)


async def with_rights_trees(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> tuple[list[DataResource], list[RightGrantRow]]:
    """The resources and every grant in their rights trees, in one query (`resource_ids` may be
    a subquery of the caller's)."""
    return await repository.resources_with_rights_trees(session, resource_ids)


async def rights_tree(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> list[RightGrantRow]:
    """The resource's rights tree, for its owner, anyone holding a right in it, and operators."""
    resources, grants = await repository.resources_with_rights_trees(session, [resource_id])
    if not resources or not (
        principal.can_see_all()
        or principal.participant_id == resources[0].owner_id
        or any(g.holder_id == principal.participant_id for g in grants)
    ):
        raise NotFound("resource not found")
    return grants


async def upload_sample(
    session: AsyncSession,
    principal: Principal,
    resource_id: uuid.UUID,
    chunks: AsyncIterator[bytes],
    expected: str | None,
    limit: int,
) -> DataResource:
    """Stream the sample or manifest, hashing as it arrives (constant memory, any size)."""
    resource = await get_resource(session, principal, resource_id)
    if resource.owner_id != principal.participant_id:
        raise NotFound("resource not found")
    if resource.status not in ("draft", "registered"):
        raise InvalidInput(
            f"a {resource.status} resource takes no new sample",
            fields=[("path.resource_id", resource.status)],
        )
    digest, size = hashlib.sha256(), 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"the upload exceeds {limit} bytes; nothing was stored")
        digest.update(chunk)
    fingerprint = digest.hexdigest()
    if size == 0:
        raise InvalidInput("the upload is empty", fields=[("body", "empty")])
    if expected is not None and not hmac.compare_digest(expected.lower(), fingerprint):
        raise FingerprintMismatch(
            "the uploaded file's SHA-256 differs from X-Expected-SHA256; nothing was stored",
            fields=[("header.X-Expected-SHA256", f"the upload hashes to {fingerprint}")],
        )
    if resource.status == "registered":
        # A registered resource keeps its certified fingerprint until a change is registered.
        resource.pending_fingerprint_sha256, resource.pending_sample_bytes = fingerprint, size
    else:
        resource.fingerprint_sha256, resource.sample_bytes = fingerprint, size
    resource.updated_at = now()
    await record(
        session,
        actor=principal.actor,
        action="resource.sample_uploaded",
        subject_type="resource",
        subject_id=resource.id,
        payload={"sha256": fingerprint, "bytes": size, "pending": resource.status == "registered"},
    )
    return resource


async def withdraw_draft(session: AsyncSession, principal: Principal, resource_id: uuid.UUID) -> DataResource:
    """The owner withdraws a resource never registered (`DELETE /v1/resources/{id}`). The row and
    its audit trail stay, marked withdrawn; a registered resource ends by cancelling its
    registration instead, which an operator reviews (Art. 62)."""
    resource = await repository.resource(session, resource_id, lock=True)
    if resource is None or resource.owner_id != principal.participant_id:
        raise NotFound("resource not found")
    if resource.status == "registered":
        raise Conflict(
            "a registered resource is withdrawn by cancelling its registration "
            "(POST /v1/registrations/{registration_id}/cancellation), which an operator reviews",
            code="resource-registered",
        )
    if resource.status != "draft":
        raise Conflict(f"the resource is already {resource.status}", code="resource-not-draft")
    pending = await repository.application_in_progress(session, resource.id)
    if pending is not None:
        raise Conflict(
            f"registration {pending.id} of this resource is {pending.status}; it is decided first",
            code="registration-in-progress",
        )
    resource.status, resource.updated_at = "withdrawn", now()
    await record(
        session,
        actor=principal.actor,
        action="resource.withdrawn",
        subject_type="resource",
        subject_id=resource.id,
        payload={"title": resource.title, "was": "draft"},
    )
    return resource
