"""The personal-information feature's background work: deadline warnings to sellers, and
escalation to the operators of requests and licensee obligations left unanswered. Each job is
idempotent and safe on several workers at once (rows taken with SKIP LOCKED on PostgreSQL;
SQLite serialises writers) and returns how many things it did. Every 5 minutes: deadlines are
whole working days, so a few minutes late is never a day late."""

from __future__ import annotations

from market.audit.log import record
from market.common.clock import now
from market.jobs import job
from market.notifications.outbox import notify
from market.privacy import obligations, repository, requests
from market.runtime import Runtime

BATCH = 200


@job("privacy.subject_request_warnings", schedule="*/5 * * * *")
async def warn_subject_request_deadlines(runtime: Runtime) -> int:
    """Warn sellers whose answer is due within `subject_request_warning_working_days`."""
    async with runtime.sessionmaker() as session, session.begin():
        due_soon = await repository.requests_to_warn(session, now(), BATCH)
        for request in due_soon:
            request.warned_at = now()
            await record(
                session,
                actor="system",
                action="subject_request.deadline_warning",
                subject_type="subject_request",
                subject_id=request.id,
                payload={"due_at": request.due_at, "basis": "PIPL Art. 50"},
            )
            await notify(
                session,
                "subject_request.deadline_warning",
                to=[request.seller_id],
                subject=("subject_request", request.id),
                data={"due_at": request.due_at},
                once=f"subject_request:{request.id}:deadline_warning",
            )
        return len(due_soon)


@job("privacy.subject_request_escalations", schedule="*/5 * * * *")
async def escalate_overdue_subject_requests(runtime: Runtime) -> int:
    """Requests unanswered at their deadline go to the operators."""
    async with runtime.sessionmaker() as session, session.begin():
        overdue = await repository.overdue_requests(session, now(), BATCH)
        for request in overdue:
            await requests.escalate_at_deadline(session, request)
        return len(overdue)


@job("privacy.obligation_escalations", schedule="*/5 * * * *")
async def escalate_overdue_obligations(runtime: Runtime) -> int:
    """Licensee obligations unacknowledged at their deadline go to the operators."""
    async with runtime.sessionmaker() as session, session.begin():
        overdue = await repository.overdue_obligations(session, now(), BATCH)
        for obligation in overdue:
            await obligations.escalate_at_deadline(session, obligation)
        return len(overdue)
