"""Participants' background work: verifications past their deadline raise an alert."""

from __future__ import annotations

from market.jobs import job
from market.participants import verification
from market.runtime import Runtime


@job("participants.verification_overdue", schedule="*/10 * * * *")
async def alert_overdue_verifications(runtime: Runtime) -> int:
    """Alert operators, once per participant, to each verification undecided past its deadline."""
    async with runtime.sessionmaker() as session, session.begin():
        return await verification.alert_overdue(session)
