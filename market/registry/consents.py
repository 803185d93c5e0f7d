"""Consent records of personal resources, in versions (Art. 43; PIPL Art. 13, 14, 23, 29), and
personal-data holds: a person's data that must leave a resource before it is sold again
(PIPL Art. 15, 47; Jilin Regulation 2023 Art. 43, 44).

The current consent record is what the compliance rules read: its purposes and separate
consents (DATA-005, DATA-006) and its headcounts (the cross-border thresholds, TRADE-006).
The resource's `consent` mirrors the current version, so every reader sees one basis.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, InvalidInput, NotFound
from market.registry import repository
from market.registry.models import ConsentRecord, DataResource, PersonalDataHold
from market.registry.resources import get_resource
from market.registry.schemas import ConsentRecordCreate, HoldRelease

# What is personal information (PIPL Art. 4, 73): anonymised data is not.
PERSONAL_STATES = frozenset({"identifiable", "de_identified"})


async def _own_personal_resource(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> DataResource:
    resource = await repository.resource(session, resource_id, lock=True)
    if resource is None or resource.owner_id != principal.participant_id:
        raise NotFound("resource not found")
    if resource.personal_info not in PERSONAL_STATES:
        raise InvalidInput(
            "consent records are kept for personal information only (anonymised data is not, PIPL Art. 73)",
            fields=[("path.resource_id", f"personal_info is {resource.personal_info}")],
        )
    if resource.status not in ("draft", "registered"):
        raise Conflict(f"the resource is {resource.status}; its consent record is closed")
    return resource


def _consistent_with_resource(resource: DataResource, data: ConsentRecordCreate) -> None:
    """A record must not contradict the resource's classification (PIPL Art. 28)."""
    if data.sensitive_people_covered and not resource.sensitive_personal:
        raise InvalidInput(
            "the resource is not classified as holding sensitive personal information",
            fields=[("body.sensitive_people_covered", "must be 0 for a resource without sensitive data")],
        )
    if resource.sensitive_personal and not data.sensitive_people_covered:
        raise InvalidInput(
            "the resource holds sensitive personal information: say how many people it concerns",
            fields=[("body.sensitive_people_covered", "must be at least 1 for a sensitive resource")],
        )


async def record_consent(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, data: ConsentRecordCreate
) -> ConsentRecord:
    """A new version of the resource's consent record; the current one is superseded, not lost."""
    resource = await _own_personal_resource(session, principal, resource_id)
    _consistent_with_resource(resource, data)
    current = (await repository.current_consent_records(session, [resource.id])).get(resource.id)
    at = now()
    if current is not None:
        current.superseded_at = at
    row = ConsentRecord(
        resource_id=resource.id,
        version=current.version + 1 if current else 1,
        legal_basis=data.legal_basis,
        purposes=sorted(set(data.purposes)),
        onward_transfer_consented=data.onward_transfer_consented,
        sensitive_separately_consented=data.sensitive_separately_consented,
        people_covered=data.people_covered,
        sensitive_people_covered=data.sensitive_people_covered,
        evidence_sha256=data.evidence_sha256,
        evidence_description=data.evidence_description,
        recorded_by=principal.actor,
        recorded_at=at,
    )
    session.add(row)
    resource.consent = {
        "purposes": row.purposes,
        "covers_onward_transfer": row.onward_transfer_consented,
        "separate_consent_for_sensitive": row.sensitive_separately_consented,
        "evidence": row.evidence_description,
        "legal_basis": row.legal_basis,
        "record_version": row.version,
    }
    resource.updated_at = at
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="consent.recorded",
        subject_type="resource",
        subject_id=resource.id,
        payload={
            "consent_record_id": str(row.id),
            "version": row.version,
            "supersedes": current.version if current else None,
            "legal_basis": row.legal_basis,
            "purposes": row.purposes,
            "onward_transfer_consented": row.onward_transfer_consented,
            "sensitive_separately_consented": row.sensitive_separately_consented,
            "people_covered": row.people_covered,
            "sensitive_people_covered": row.sensitive_people_covered,
            "evidence_sha256": row.evidence_sha256,
            "basis": "Jilin 2023 Art. 43; PIPL Art. 13, 23, 29",
        },
    )
    return row


async def history(session: AsyncSession, principal: Principal, resource_id: uuid.UUID) -> list[ConsentRecord]:
    """Every version, newest first (the resource's owner, operators and auditors)."""
    await get_resource(session, principal, resource_id)
    return await repository.consent_records(session, resource_id)


async def current_records(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> dict[uuid.UUID, ConsentRecord]:
    """The consent record in force of each resource that has one (for the compliance rules)."""
    return await repository.current_consent_records(session, resource_ids)


async def place_hold(
    session: AsyncSession,
    *,
    resource_id: uuid.UUID,
    cause_type: str,
    cause_id: uuid.UUID,
    reason: str,
    actor: str,
) -> PersonalDataHold | None:
    """Hold the resource for this cause (once: None when the cause already placed its hold)."""
    if await repository.hold(session, resource_id, cause_type, cause_id) is not None:
        return None
    hold = PersonalDataHold(
        id=uuid.uuid4(),
        resource_id=resource_id,
        cause_type=cause_type,
        cause_id=cause_id,
        reason=reason,
        placed_by=actor,
        placed_at=now(),
    )
    session.add(hold)
    await record(
        session,
        actor=actor,
        action="resource.personal_data_hold_placed",
        subject_type="resource",
        subject_id=resource_id,
        payload={
            "hold_id": str(hold.id),
            "cause_type": cause_type,
            "cause_id": str(cause_id),
            "basis": "PIPL Art. 15, 47; Jilin 2023 Art. 43, 44",
        },
    )
    return hold


async def holds_of(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> list[PersonalDataHold]:
    await get_resource(session, principal, resource_id)
    return await repository.holds(session, resource_id)


async def resources_on_hold(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID] | Select[Any]
) -> set[uuid.UUID]:
    return await repository.resources_on_hold(session, resource_ids)


async def release_hold(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, hold_id: uuid.UUID, data: HoldRelease
) -> PersonalDataHold:
    """An operator's word that the seller removed the person's data; the resource may be sold
    again (its suspended products are listed again by an operator's listing decision)."""
    hold = await session.get(PersonalDataHold, hold_id, with_for_update=True)
    if hold is None or hold.resource_id != resource_id:
        raise NotFound("hold not found")
    if hold.released_at is not None:
        raise Conflict("the hold is already released", code="hold-already-released")
    hold.released_at, hold.released_by, hold.release_reason = now(), principal.actor, data.reason
    await record(
        session,
        actor=principal.actor,
        action="resource.personal_data_hold_released",
        subject_type="resource",
        subject_id=resource_id,
        payload={"hold_id": str(hold.id), "reason": data.reason},
    )
    return hold
