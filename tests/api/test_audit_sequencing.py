"""Many concurrent writers, concurrent publishers: contiguous sequence numbers and a verifiable tree."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from market.audit.log import record
from market.audit.models import AuditEntry
from market.audit.verify_db import verify_database
from tests.api.audit_factories import public_key, publish_now


async def test_concurrent_appends_and_publishers_stay_contiguous(app: Any, backend: str) -> None:
    async def writer(n: int) -> None:
        async with app.state.sessionmaker() as session, session.begin():
            for i in range(5):
                await record(
                    session,
                    actor=f"writer:{n}",
                    action="test.appended",
                    subject_type="test",
                    subject_id=str(n),
                    payload={"i": i},
                )

    async def publisher() -> None:
        for _ in range(5):
            outcome = await publish_now(app)
            assert outcome.consistent, outcome.finding
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(20)), publisher(), publisher())
    await publish_now(app)
    async with app.state.sessionmaker() as session:
        seqs = sorted((await session.execute(select(AuditEntry.seq))).scalars())
        assert seqs == list(range(100))
        assert (
            await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
            == 0
        )
    report = await verify_database(app.state.settings.effective_database_url, public_key(app))
    assert report.ok and report.entries == 100 and report.heads_checked >= 1
