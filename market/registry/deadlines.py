"""Objection deadlines (Art. 30; 2020 Regulation Art. 12: an objection is handled within 5
working days). Operators are warned `deadline_warning_working_days` working days before an open
objection falls due, and when it passes an alert is raised for them: each once per objection,
whatever how often the job runs or on how many workers (the notification's `once` key)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.common.clock import now
from market.notifications.outbox import OPERATORS, notify
from market.registry import repository
from market.registry.lifecycle import calendar
from market.registry.models import Objection, Registration
from market.registry.workdays import working_days_between
from market.settings import Settings


async def warn_objections(session: AsyncSession, settings: Settings) -> int:
    """Warnings and alerts sent by this run."""
    at, cal = now(), await calendar(session)
    sent = 0
    for objection in await repository.open_objections(session):
        reg = await repository.registration(session, objection.registration_id)
        assert reg is not None
        if at >= objection.due_at:
            sent += await _overdue(session, objection, reg)
        elif working_days_between(at, objection.due_at, cal) <= settings.deadline_warning_working_days:
            left = working_days_between(at, objection.due_at, cal)
            written = await notify(
                session,
                "objection.deadline_approaching",
                to=[OPERATORS],
                subject=("registration", reg.id),
                data={"objection_id": objection.id, "due_at": objection.due_at, "working_days_left": left},
                once=f"objection:{objection.id}:approaching",
            )
            sent += len(written)
    return sent


async def _overdue(session: AsyncSession, objection: Objection, reg: Registration) -> int:
    written = await notify(
        session,
        "objection.overdue",
        to=[OPERATORS, reg.applicant_id],
        subject=("registration", reg.id),
        data={"objection_id": objection.id, "due_at": objection.due_at},
        once=f"objection:{objection.id}:overdue",
    )
    if written:  # first time past due: the alert goes with the notice, once
        await raise_alert(
            session,
            Finding(
                rule="objection_overdue",
                severity="high",
                summary=f"objection {objection.id} was due {objection.due_at.isoformat()} and is still open",
                evidence={
                    "objection_id": str(objection.id),
                    "registration_id": str(reg.id),
                    "due_at": objection.due_at.isoformat(),
                    "basis": "Art. 30; 2020 Regulation Art. 12 (5 working days)",
                },
            ),
            "registration",
            str(reg.id),
        )
    return len(written)
