"""Many concurrent writers, one sequencer: contiguous sequence numbers and a verifiable tree."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from sqlalchemy import func, select

from market.audit.cli import verify_database
from market.audit.log import record
from market.audit.models import AuditEntry
from market.audit.sequencer import sequence_pending


async def test_concurrent_appends_and_sequencing_stay_contiguous(app: Any, backend: str) -> None:
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

    async def sequencer() -> None:
        for _ in range(10):
            async with app.state.sessionmaker() as session, session.begin():
                await sequence_pending(session, batch=7)
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(20)), sequencer(), sequencer())
    async with app.state.sessionmaker() as session, session.begin():
        while await sequence_pending(session):
            pass
    async with app.state.sessionmaker() as session:
        seqs = sorted((await session.execute(select(AuditEntry.seq))).scalars())
        assert seqs == list(range(100))
        assert (
            await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
            == 0
        )
    key = base64.b64encode(app.state.settings.exchange_signing_key().public_key().public_bytes_raw()).decode()
    report = await verify_database(app.state.settings.effective_database_url, key)
    assert report.ok and report.entries == 100
