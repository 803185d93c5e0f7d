"""Idempotency records are kept `MARKET_IDEMPOTENCY_RETENTION_HOURS` (24 h by default, as Stripe
does): long enough for any client's retries, not forever."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from market.common.clock import now
from market.idempotency.models import IdempotencyRecord
from market.jobs import job
from market.runtime import Runtime

BATCH = 5000


@job("idempotency.purge_expired", schedule="*/15 * * * *")
async def purge_expired_idempotency_records(runtime: Runtime) -> int:
    """Delete records older than the retention window, a batch per transaction; returns how many."""
    cutoff = now() - timedelta(hours=runtime.settings.idempotency_retention_hours)
    purged = 0
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            expired = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff).limit(BATCH)
            ids = list((await session.execute(expired)).scalars())
            if ids:
                await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
        purged += len(ids)
        if len(ids) < BATCH:
            return purged
