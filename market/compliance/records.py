"""Facts on file: authorised-operation mandates (Art. 36), conditional-open applications
(Art. 35) and cross-border security assessments (Art. 88)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.compliance.models import OpenApplication, OperationMandate, SecurityAssessment
from market.compliance.schemas import (
    AssessmentCreate,
    MandateCreate,
    OpenApplicationCreate,
    OpenApplicationDecision,
)
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.participants import service as participants
from market.participants.models import Participant
from market.registry import resources as registry_resources
from market.registry.models import DataResource


async def _resource(session: AsyncSession, resource_id: uuid.UUID, field: str) -> DataResource:
    resource = await registry_resources.find(session, resource_id)
    if resource is None:
        raise NotFound("resource not found", fields=[(field, "no such resource")])
    return resource


async def _participant(session: AsyncSession, pid: uuid.UUID, field: str) -> Participant:
    participant = await participants.find(session, pid)
    if participant is None:
        raise NotFound("participant not found", fields=[(field, "no such participant")])
    return participant


async def create_mandate(
    session: AsyncSession, principal: Principal, data: MandateCreate
) -> OperationMandate:
    resource = await _resource(session, data.resource_id, "body.resource_id")
    if resource.category != "public":
        raise InvalidInput(
            "authorised operation applies to public data only (Art. 36)",
            fields=[("body.resource_id", "not public data")],
        )
    await _participant(session, data.operator_id, "body.operator_id")
    mandate = OperationMandate(
        resource_id=data.resource_id,
        operator_id=data.operator_id,
        purposes=sorted(set(data.purposes)),
        conditions=data.conditions,
        revenue_share=str(data.revenue_share),
        document=data.document,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
    )
    session.add(mandate)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="mandate.granted",
        subject_type="resource",
        subject_id=resource.id,
        payload={
            "mandate_id": str(mandate.id),
            "operator_id": str(data.operator_id),
            "purposes": mandate.purposes,
            "revenue_share": mandate.revenue_share,
            "valid_to": data.valid_to,
            "basis": "Art. 36",
        },
    )
    return mandate


async def apply_for_open_data(
    session: AsyncSession, principal: Principal, data: OpenApplicationCreate
) -> OpenApplication:
    if principal.participant_id is None:
        raise Forbidden("only participants apply for conditionally open data")
    resource = await _resource(session, data.resource_id, "body.resource_id")
    if resource.category != "public" or resource.open_class != "conditional":
        raise InvalidInput(
            "applications are for conditionally open public data (Art. 35)",
            fields=[("body.resource_id", "not conditionally open public data")],
        )
    application = OpenApplication(
        resource_id=data.resource_id,
        applicant_id=principal.participant_id,
        purposes=sorted(set(data.purposes)),
        scope=data.scope,
    )
    session.add(application)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="open_application.filed",
        subject_type="open_application",
        subject_id=application.id,
        payload={"resource_id": str(data.resource_id), "purposes": application.purposes},
    )
    return application


async def decide_open_application(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    data: OpenApplicationDecision,
) -> OpenApplication:
    application = await session.get(OpenApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("application not found")
    if application.status != "pending":
        raise Conflict(f"application already {application.status}")
    application.status = "approved" if data.decision == "approve" else "rejected"
    application.conditions = data.conditions
    application.decision_reason = data.reason
    application.decided_by = principal.actor
    await record(
        session,
        actor=principal.actor,
        action=f"open_application.{application.status}",
        subject_type="open_application",
        subject_id=application.id,
        payload={"reason": data.reason, "conditions": data.conditions},
    )
    return application


async def record_assessment(
    session: AsyncSession, principal: Principal, data: AssessmentCreate
) -> SecurityAssessment:
    await _resource(session, data.resource_id, "body.resource_id")
    await _participant(session, data.recipient_id, "body.recipient_id")
    if data.valid_until <= now():
        raise InvalidInput(
            "the assessment has already expired",
            fields=[("body.valid_until", "must be in the future")],
        )
    assessment = SecurityAssessment(
        recipient_id=data.recipient_id,
        resource_id=data.resource_id,
        kind=data.kind,
        reference=data.reference,
        valid_until=data.valid_until,
        recorded_by=principal.actor,
    )
    session.add(assessment)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="security_assessment.recorded",
        subject_type="resource",
        subject_id=data.resource_id,
        payload={
            "recipient_id": str(data.recipient_id),
            "kind": data.kind,
            "reference": data.reference,
            "valid_until": data.valid_until,
            "basis": "Art. 88",
        },
    )
    return assessment
