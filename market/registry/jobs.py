"""The registry's background work: registering at the end of publicity (Art. 62), and warning
operators before an objection's deadline and when it passes (Art. 30; 2020 Regulation Art. 12:
an objection is handled within 5 working days)."""

from __future__ import annotations

import logging
import uuid

from market.jobs import job
from market.registry import deadlines, lifecycle
from market.runtime import Runtime

log = logging.getLogger("market.registry")


@job("registry.finalise_due", schedule="* * * * *")
async def finalise_due_registrations(runtime: Runtime) -> int:
    """Register every registration whose publicity has ended, one transaction each (a failure
    leaves the others registered), as of its publicity end. Safe on several workers at once."""
    tried: list[uuid.UUID] = []
    registered = 0
    while True:
        current: uuid.UUID | None = None
        try:
            async with runtime.sessionmaker() as session, session.begin():
                due = await lifecycle.next_publicity_ended(session, skip=tried)
                if due is None:
                    return registered
                current = due.id
                tried.append(current)
                registered += await lifecycle.finalise(session, runtime.settings, due)
        except Exception:
            if current is None:
                raise  # the database itself failed: the queue retries the job
            # One registration that cannot be registered must not hold up the others: it is
            # logged, skipped in this run and tried again in the next.
            log.exception("registering %s failed", current)


@job("registry.objection_deadlines", schedule="*/10 * * * *")
async def warn_objection_deadlines(runtime: Runtime) -> int:
    """Warn operators (and the registration's applicant) N working days before an open
    objection's deadline, and raise an alert when it passes: each once per objection."""
    async with runtime.sessionmaker() as session, session.begin():
        return await deadlines.warn_objections(session, runtime.settings)
