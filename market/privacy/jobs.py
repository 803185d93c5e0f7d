"""Periodic work of the personal-information feature: plain idempotent functions of a
`Runtime`, safe to run from several processes at once (rows are taken with SKIP LOCKED on
PostgreSQL; SQLite serialises writers). Each returns how many things it did. Suggested
schedule: every 5 minutes for all three (deadlines are whole working days, so a few minutes
late is never a day late)."""

from __future__ import annotations

from market.audit.log import record
from market.common.clock import now
from market.privacy import obligations, repository, requests
from market.privacy.notices import send_notification
from market.runtime import Runtime

BATCH = 200


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
            await send_notification(
                session,
                recipient_id=request.seller_id,
                event="subject_request.deadline_warning",
                subject_type="subject_request",
                subject_id=request.id,
                details={"due_at": request.due_at.isoformat()},
            )
        return len(due_soon)


async def escalate_overdue_subject_requests(runtime: Runtime) -> int:
    """Requests unanswered at their deadline go to the operators."""
    async with runtime.sessionmaker() as session, session.begin():
        overdue = await repository.overdue_requests(session, now(), BATCH)
        for request in overdue:
            await requests.escalate_at_deadline(session, request)
        return len(overdue)


async def escalate_overdue_obligations(runtime: Runtime) -> int:
    """Licensee obligations unacknowledged at their deadline go to the operators."""
    async with runtime.sessionmaker() as session, session.begin():
        overdue = await repository.overdue_obligations(session, now(), BATCH)
        for obligation in overdue:
            await obligations.escalate_at_deadline(session, obligation)
        return len(overdue)
