"""Registration workflow (Art. 62): application -> operator review -> publicity (公示, objections
pause the clock) -> registered with a signed certificate; then change, transfer, cancellation.

A confirmed registration roots its holder's holding right (数据资源持有权, Art. 22).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal, ensure_visible
from market.common.clock import now
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.notifications.outbox import OPERATORS, notify
from market.participants import service as participants
from market.participants import verification
from market.participants.models import Participant
from market.registry import after_registration, repository
from market.registry.certificates import public_holder_name, sign_certificate
from market.registry.models import CalendarDay, CalendarYear, DataResource, Objection, Registration
from market.registry.numbers import format_registration_number
from market.registry.schemas import (
    CalendarDayCreate,
    ChangeRequest,
    ObjectionCreate,
    ObjectionResolution,
    RegistrationCreate,
    RegistrationDecision,
    TransferRequest,
)
from market.registry.workdays import (
    CalendarYearUnknown,
    HolidayCalendar,
    add_working_days,
    deadline_with_pauses,
    load_calendar,
    local_day,
)
from market.rights import service as rights
from market.settings import Settings


class InvalidRegistrationState(Conflict):
    code = "invalid-registration-state"


async def calendar(session: AsyncSession) -> HolidayCalendar:
    days = list((await session.execute(select(CalendarDay))).scalars())
    years = list((await session.execute(select(CalendarYear.year))).scalars())
    return load_calendar(
        [d.day for d in days if d.kind == "holiday"], [d.day for d in days if d.kind == "workday"], years
    )


async def working_days_after(session: AsyncSession, start: datetime, n: int) -> datetime:
    """The end of the nth working day after `start` in the exchange's calendar (PRC holidays,
    makeup days and the operators' additions): the one way deadlines are counted."""
    return add_working_days(start, n, await calendar(session))


async def _verification_due(session: AsyncSession, start: datetime, n: int) -> datetime | None:
    """A participant verification's deadline; None when the calendar does not know the year yet
    (a sign-up is not refused for that: the operators' queue still shows it, oldest first)."""
    try:
        return await working_days_after(session, start, n)
    except CalendarYearUnknown:
        return None


verification.register_working_days(_verification_due)


async def _registration(session: AsyncSession, registration_id: uuid.UUID, lock: bool = True) -> Registration:
    reg = await session.get(Registration, registration_id, with_for_update=lock)
    if reg is None:
        raise NotFound("registration not found")
    return reg


async def _no_application_in_progress(session: AsyncSession, resource_id: uuid.UUID) -> None:
    pending = await session.scalar(
        select(Registration.id).where(
            Registration.resource_id == resource_id, Registration.status.in_(("submitted", "publicity"))
        )
    )
    if pending:
        raise Conflict("this resource already has an application in progress")


async def in_progress(session: AsyncSession, resource_id: uuid.UUID) -> Registration | None:
    """The resource's application under review or in publicity, if any (to name the next step)."""
    found: Registration | None = await session.scalar(
        select(Registration)
        .where(Registration.resource_id == resource_id, Registration.status.in_(("submitted", "publicity")))
        .order_by(Registration.created_at.desc())
        .limit(1)
    )
    return found


async def apply(session: AsyncSession, principal: Principal, data: RegistrationCreate) -> Registration:
    resource = await session.get(DataResource, data.resource_id, with_for_update=True)
    if resource is None or resource.owner_id != principal.participant_id:
        raise NotFound("resource not found", fields=[("body.resource_id", "no such resource of yours")])
    if resource.status != "draft":
        raise InvalidRegistrationState(
            f"the resource is {resource.status}; use changes, transfer or cancellation"
        )
    problems = []
    if resource.grade == "core":
        problems.append(("body.resource_id", "core data is not registered for trading (Art. 82)"))
    if not resource.fingerprint_sha256:
        problems.append(("body.resource_id", "upload a sample or manifest first: no fingerprint"))
    if problems:
        raise InvalidInput(
            "the resource cannot be registered: " + "; ".join(r for _, r in problems),
            fields=problems,
        )
    await _no_application_in_progress(session, resource.id)
    reg = Registration(
        resource_id=resource.id,
        applicant_id=resource.owner_id,
        kind="initial",
        status="submitted",
        rights_evidence=data.rights_evidence,
        resource_version=resource.version,
        created_at=now(),
        updated_at=now(),
    )
    session.add(reg)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="registration.applied",
        subject_type="registration",
        subject_id=reg.id,
        payload={
            "resource_id": str(resource.id),
            "kind": "initial",
            "fingerprint": resource.fingerprint_sha256,
        },
    )
    return reg


async def decide(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    registration_id: uuid.UUID,
    data: RegistrationDecision,
) -> Registration:
    reg = await _registration(session, registration_id)
    if reg.status != "submitted":
        raise InvalidRegistrationState(f"the registration is {reg.status}, not awaiting review")
    reg.checklist = data.checklist.model_dump()
    if data.decision == "reject":
        if not data.reasons:
            raise InvalidInput("a rejection gives its reasons", fields=[("body.reasons", "required")])
        reg.status, reg.decision_reasons = "rejected", data.reasons
        await record(
            session,
            actor=principal.actor,
            action="registration.rejected",
            subject_type="registration",
            subject_id=reg.id,
            payload={"reasons": data.reasons, "checklist": reg.checklist},
        )
        await notify(
            session,
            "registration.rejected",
            to=[reg.applicant_id],
            subject=("registration", reg.id),
            data={"reasons": data.reasons},
        )
        return reg
    failed = [k for k, ok in reg.checklist.items() if not ok]
    if failed:
        raise InvalidInput(
            "approval needs every checklist item",
            fields=[(f"body.checklist.{k}", "not satisfied") for k in failed],
        )
    reg.decision_reasons = data.reasons or None
    if reg.kind in ("initial", "change"):
        reg.status = "publicity"
        reg.publicity_started_at = now()
        reg.publicity_ends_at = add_working_days(
            now(), settings.publicity_working_days, await calendar(session)
        )
        await record(
            session,
            actor=principal.actor,
            action="registration.approved_for_publicity",
            subject_type="registration",
            subject_id=reg.id,
            payload={"publicity_ends_at": reg.publicity_ends_at, "checklist": reg.checklist},
        )
        await notify(
            session,
            "registration.approved_for_publicity",
            to=[reg.applicant_id],
            subject=("registration", reg.id),
            data={"publicity_ends_at": reg.publicity_ends_at},
        )
        if settings.publicity_working_days == 0:  # embedded demos and tests only (Settings)
            await finalise(session, settings, reg, principal.actor)
    elif reg.kind == "transfer":
        await _complete_transfer(session, settings, reg, principal.actor)
    else:
        await _complete_cancellation(session, settings, reg, principal.actor)
    return reg


async def _next_number(session: AsyncSession, registered_at: datetime) -> str:
    return format_registration_number(
        local_day(registered_at).year, "R", await repository.next_registration_sequence(session)
    )


async def _certify(
    session: AsyncSession,
    settings: Settings,
    reg: Registration,
    holder_id: uuid.UUID,
    resource: DataResource,
    status: str = "registered",
) -> None:
    holder = await participants.find(session, holder_id)
    assert holder is not None
    reg.registration_number = reg.registration_number or await _next_number(
        session, reg.registered_at or now()
    )
    reg.certificate = sign_certificate(
        {
            "registration_number": reg.registration_number,
            "kind": reg.kind,
            "status": status,
            "holder_id": str(holder.id),
            "holder_kind": holder.kind,
            "holder_name": public_holder_name(holder.kind, holder.name),
            "holder_credit_code": holder.credit_code,
            "resource_id": str(resource.id),
            "resource_title": resource.title,
            "fingerprint_sha256": resource.fingerprint_sha256,
            "grade": resource.grade,
            "category": resource.category,
            "version": resource.version,
            "issued_at": (reg.registered_at or now()).isoformat(),
            "exchange": "Jilin data exchange",
        },
        settings.exchange_signing_key(),
    )


async def finalise(
    session: AsyncSession, settings: Settings, reg: Registration, actor: str = "system"
) -> bool:
    """Register a registration whose publicity has ended with no open objection (idempotent).

    The row is locked and read again first, so two finalisers (workers, an operator's
    finalise-due) cannot both register it: the second sees it registered and does nothing. It is
    registered at the end of its publicity (Art. 62), whenever this runs.
    """
    await session.flush()  # re-reading the row must not drop this session's own changes to it
    locked = await repository.registration(session, reg.id, lock=True)
    assert locked is not None
    reg = locked
    if reg.status != "publicity" or reg.publicity_ends_at is None or now() < reg.publicity_ends_at:
        return False
    resource = await session.get(DataResource, reg.resource_id, with_for_update=True)
    assert resource is not None
    reg.status, reg.registered_at = "registered", reg.publicity_ends_at
    if reg.kind == "change":
        previous = (
            (
                await session.execute(
                    select(Registration).where(
                        Registration.resource_id == resource.id,
                        Registration.status == "registered",
                        Registration.id != reg.id,
                    )
                )
            )
            .scalars()
            .all()
        )
        for old in previous:
            old.status = "superseded"
        resource.fingerprint_sha256 = resource.pending_fingerprint_sha256
        resource.sample_bytes = resource.pending_sample_bytes
        resource.pending_fingerprint_sha256 = resource.pending_sample_bytes = None
        resource.version += 1
        reg.resource_version = resource.version
    resource.status = "registered"
    await _certify(session, settings, reg, resource.owner_id, resource)
    grant = (
        await rights.root_holding_right(
            session, resource_id=reg.resource_id, registration_id=reg.id, holder_id=resource.owner_id
        )
        if reg.kind == "initial"
        else None
    )
    await record(
        session,
        actor=actor,
        action="registration.registered",
        subject_type="registration",
        subject_id=reg.id,
        payload={
            "registration_number": reg.registration_number,
            "kind": reg.kind,
            "fingerprint": resource.fingerprint_sha256,
            "version": resource.version,
            "registered_at": reg.registered_at,
            "holding_grant_id": str(grant.id) if grant else None,
        },
    )
    await notify(
        session,
        "registration.registered",
        to=[reg.applicant_id],
        subject=("registration", reg.id),
        data={"registration_number": reg.registration_number, "registered_at": reg.registered_at},
    )
    return True


async def next_publicity_ended(session: AsyncSession, skip: Iterable[uuid.UUID] = ()) -> Registration | None:
    """One registration whose publicity has ended and that no other finaliser holds, locked."""
    found = await repository.publicity_ended(session, now(), limit=1, skip=skip)
    return found[0] if found else None


async def finalise_due(
    session: AsyncSession, settings: Settings, *, limit: int = 100, skip: Iterable[uuid.UUID] = ()
) -> list[uuid.UUID]:
    """Finalise up to `limit` registrations whose publicity has ended, skipping rows another
    finaliser holds (SKIP LOCKED), so concurrent finalisers share the work; returns their ids."""
    done = []
    for reg in await repository.publicity_ended(session, now(), limit=limit, skip=skip):
        if await finalise(session, settings, reg):
            done.append(reg.id)
    return done


async def object_to(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    registration_id: uuid.UUID,
    data: ObjectionCreate,
) -> Objection:
    if principal.participant_id is None:
        raise Forbidden("objections are filed by participants")
    reg = await _registration(session, registration_id)
    if reg.status != "publicity" and not after_registration.accepts(reg.status, data.kind):
        raise InvalidRegistrationState(
            "objections are accepted during publicity, and after registration on personal-information "
            f"grounds (Art. 30); this registration is {reg.status}"
        )
    if reg.status == "publicity" and reg.publicity_ends_at is not None and now() >= reg.publicity_ends_at:
        # Ended, and registered by the next finalisation run (which does it as of that moment).
        raise InvalidRegistrationState(
            f"objections are accepted only during publicity; it ended at {reg.publicity_ends_at.isoformat()}"
        )
    cal = await calendar(session)
    objection = Objection(
        registration_id=reg.id,
        objector_id=principal.participant_id,
        kind=data.kind,
        grounds=data.grounds,
        filed_at=now(),
        due_at=add_working_days(now(), settings.objection_working_days, cal),
    )
    session.add(objection)
    if reg.status == "publicity":
        reg.publicity_ends_at = None  # paused until every objection is resolved
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="objection.filed",
        subject_type="registration",
        subject_id=reg.id,
        payload={"objection_id": str(objection.id), "kind": data.kind, "due_at": objection.due_at},
    )
    await notify(
        session,
        "objection.filed",
        to=[reg.applicant_id, OPERATORS],
        subject=("registration", reg.id),
        data={"objection_id": objection.id, "kind": data.kind, "due_at": objection.due_at},
    )
    return objection


async def resolve_objection(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    objection_id: uuid.UUID,
    data: ObjectionResolution,
) -> Objection:
    objection = await session.get(Objection, objection_id, with_for_update=True)
    if objection is None:
        raise NotFound("objection not found")
    if objection.status != "open":
        raise Conflict(f"the objection is already {objection.status}")
    reg = await _registration(session, objection.registration_id)
    objection.status, objection.resolved_at = data.outcome, now()
    objection.resolved_by, objection.resolution_reason = principal.actor, data.reason
    if reg.status != "publicity":  # filed after registration: the sale stops, not the registration
        if data.outcome == "upheld":
            await after_registration.upheld(session, settings, objection, reg, principal.actor)
    elif data.outcome == "upheld":
        reg.status = "rejected"
        reg.decision_reasons = [f"objection upheld: {data.reason}"]
        reg.publicity_ends_at = None
    else:
        objections = (
            (await session.execute(select(Objection).where(Objection.registration_id == reg.id)))
            .scalars()
            .all()
        )
        assert reg.publicity_started_at is not None
        reg.publicity_ends_at = deadline_with_pauses(
            reg.publicity_started_at,
            settings.publicity_working_days,
            [(o.filed_at, o.resolved_at) for o in objections],
            await calendar(session),
        )
    await record(
        session,
        actor=principal.actor,
        action=f"objection.{data.outcome}",
        subject_type="registration",
        subject_id=reg.id,
        payload={
            "objection_id": str(objection.id),
            "reason": data.reason,
            "registration_status": reg.status,
            "publicity_ends_at": reg.publicity_ends_at,
        },
    )
    await notify(
        session,
        "objection.resolved",
        to=[reg.applicant_id, objection.objector_id],
        subject=("registration", reg.id),
        data={
            "objection_id": objection.id,
            "outcome": data.outcome,
            "reason": data.reason,
            "registration_status": reg.status,
            "publicity_ends_at": reg.publicity_ends_at,
        },
    )
    return objection


async def _registered(
    session: AsyncSession, principal: Principal, registration_id: uuid.UUID
) -> Registration:
    reg = await _registration(session, registration_id)
    if reg.applicant_id != principal.participant_id and not (
        reg.kind == "transfer" and reg.transfer_to_id == principal.participant_id
    ):
        resource = await session.get(DataResource, reg.resource_id)
        if resource is None or resource.owner_id != principal.participant_id:
            raise NotFound("registration not found")
    if reg.status != "registered":
        raise InvalidRegistrationState(
            f"only a registered registration changes hands; this one is {reg.status}"
        )
    return reg


async def _follow_up(
    session: AsyncSession,
    principal: Principal,
    base: Registration,
    kind: str,
    reason: str,
    **extra: object,
) -> Registration:
    await _no_application_in_progress(session, base.resource_id)
    reg = Registration(
        resource_id=base.resource_id,
        applicant_id=principal.participant_id,
        kind=kind,
        status="submitted",
        rights_evidence=reason,
        registration_number=None,
        resource_version=base.resource_version,
        created_at=now(),
        updated_at=now(),
        **extra,
    )
    session.add(reg)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action=f"registration.{kind}_applied",
        subject_type="registration",
        subject_id=reg.id,
        payload={"of": str(base.id), "reason": reason, **{k: str(v) for k, v in extra.items()}},
    )
    return reg


async def request_change(
    session: AsyncSession, principal: Principal, registration_id: uuid.UUID, data: ChangeRequest
) -> Registration:
    base = await _registered(session, principal, registration_id)
    resource = await session.get(DataResource, base.resource_id)
    assert resource is not None
    if not resource.pending_fingerprint_sha256:
        raise InvalidInput(
            "upload the new version's sample first (PUT /v1/resources/{id}/sample)",
            fields=[("path.registration_id", "no new fingerprint pending")],
        )
    return await _follow_up(session, principal, base, "change", data.reason)


async def _eligible_recipient(session: AsyncSession, participant_id: uuid.UUID) -> Participant:
    recipient = await participants.find(session, participant_id)
    if recipient is None:
        raise NotFound("recipient not found", fields=[("body.to_participant_id", "no such participant")])
    if recipient.credit_status == "blacklisted":
        raise InvalidInput(
            "blacklisted participants cannot receive a transfer (吉政办发〔2016〕35号)",
            fields=[("body.to_participant_id", "blacklisted")],
        )
    return recipient


async def request_transfer(
    session: AsyncSession, principal: Principal, registration_id: uuid.UUID, data: TransferRequest
) -> Registration:
    base = await _registered(session, principal, registration_id)
    if data.to_participant_id == principal.participant_id:
        raise InvalidInput("the resource is already yours", fields=[("body.to_participant_id", "yourself")])
    await _eligible_recipient(session, data.to_participant_id)
    return await _follow_up(
        session, principal, base, "transfer", data.reason, transfer_to_id=data.to_participant_id
    )


async def request_cancellation(
    session: AsyncSession, principal: Principal, registration_id: uuid.UUID, data: ChangeRequest
) -> Registration:
    base = await _registered(session, principal, registration_id)
    return await _follow_up(session, principal, base, "cancellation", data.reason)


async def _current(session: AsyncSession, resource_id: uuid.UUID) -> Registration:
    current = (
        (
            await session.execute(
                select(Registration).where(
                    Registration.resource_id == resource_id, Registration.status == "registered"
                )
            )
        )
        .scalars()
        .first()
    )
    if current is None:
        raise InvalidRegistrationState("the resource has no registered registration any more")
    return current


async def _complete_transfer(
    session: AsyncSession, settings: Settings, reg: Registration, actor: str
) -> None:
    assert reg.transfer_to_id is not None
    await _eligible_recipient(session, reg.transfer_to_id)  # re-checked at decision time
    resource = await session.get(DataResource, reg.resource_id, with_for_update=True)
    assert resource is not None
    old = await _current(session, resource.id)
    old.status = "transferred"
    revoked = await rights.revoke_holding_rights(session, settings, resource.id, "transferred", actor=actor)
    previous_owner = resource.owner_id
    resource.owner_id = reg.transfer_to_id
    reg.status, reg.registered_at = "registered", now()
    await _certify(session, settings, reg, reg.transfer_to_id, resource)
    grant = await rights.root_holding_right(
        session, resource_id=reg.resource_id, registration_id=reg.id, holder_id=reg.transfer_to_id
    )
    await record(
        session,
        actor=actor,
        action="registration.transferred",
        subject_type="registration",
        subject_id=reg.id,
        payload={
            "from": str(previous_owner),
            "to": str(reg.transfer_to_id),
            "registration_number": reg.registration_number,
            "revoked_holding_grants": revoked,
            "new_holding_grant": str(grant.id),
        },
    )
    await notify(
        session,
        "registration.transferred",
        to=[previous_owner, reg.transfer_to_id],
        subject=("registration", reg.id),
        data={
            "registration_number": reg.registration_number,
            "from": previous_owner,
            "to": reg.transfer_to_id,
        },
    )


async def _complete_cancellation(
    session: AsyncSession, settings: Settings, reg: Registration, actor: str
) -> None:
    resource = await session.get(DataResource, reg.resource_id, with_for_update=True)
    assert resource is not None
    old = await _current(session, resource.id)
    old.status = "cancelled"
    await _certify(session, settings, old, resource.owner_id, resource, status="cancelled")
    reg.status, reg.registered_at = "cancelled", now()
    resource.status = "cancelled"
    revoked = await rights.revoke_holding_rights(
        session, settings, resource.id, "registration cancelled", actor=actor
    )
    await record(
        session,
        actor=actor,
        action="registration.cancelled",
        subject_type="registration",
        subject_id=old.id,
        payload={"registration_number": old.registration_number, "revoked_holding_grants": revoked},
    )
    await notify(
        session,
        "registration.cancelled",
        to=[resource.owner_id],
        subject=("registration", old.id),
        data={"registration_number": old.registration_number},
    )


def is_overdue(objection: Objection, at: datetime) -> bool:
    return objection.status == "open" and at > objection.due_at


async def visible_registration(
    session: AsyncSession, principal: Principal, registration_id: uuid.UUID
) -> Registration:
    reg = await repository.registration(session, registration_id)
    if reg is None:
        raise NotFound("registration not found")
    ensure_visible(principal, {reg.applicant_id, reg.transfer_to_id}, "registration")
    return reg


async def add_calendar_day(
    session: AsyncSession, principal: Principal, data: CalendarDayCreate
) -> CalendarDay:
    """An operator's addition to the working-day calendar (a holiday or a makeup working day)."""
    if await repository.calendar_day_exists(session, data.day):
        raise Conflict("this day is already in the calendar", fields=[("body.day", "exists")])
    day = CalendarDay(
        day=data.day, kind=data.kind, name=data.name, added_by=principal.actor, created_at=now()
    )
    session.add(day)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="calendar.day_added",
        subject_type="calendar",
        subject_id=str(data.day),
        payload={"kind": data.kind, "name": data.name},
    )
    return day
