"""Times are stored and read as aware UTC on both databases. On PostgreSQL the column type does
it (every `UTCDateTime` column is a timestamptz, which asyncpg reads as UTC: no conversion per
value, issue 21); on SQLite, which drops the offset, `UTCDateTime` puts it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, select, text

from market.db.base import Base, UTCDateTime
from market.db.direct import Direct
from market.participants.models import Participant
from tests.api.factories import Api


async def test_every_utc_column_is_a_timestamptz_on_postgresql(app: Any, backend: str) -> None:
    if backend != "postgres":
        return
    ours = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, UTCDateTime)
    }
    async with app.state.engine.connect() as conn:
        kinds = dict(
            ((table, column), kind)
            for table, column, kind in await conn.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema()"
                )
            )
        )
    assert len(ours) > 100
    assert {key: kinds.get(key) for key in ours} == dict.fromkeys(ours, "timestamp with time zone")


async def test_a_time_comes_back_aware_and_in_utc_however_it_was_given(api: Api, app: Any) -> None:
    org = await api.org()
    beijing = timezone(timedelta(hours=8))
    given = datetime(2026, 12, 1, 18, 30, 15, 123456, tzinfo=beijing)
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.get(Participant, uuid.UUID(org.participant_id))
        assert row is not None
        row.verified_at = given
    read = select(Participant.verified_at).where(Participant.id == bindparam("pid"))
    async with app.state.sessionmaker() as session:
        through_orm = await session.scalar(read, {"pid": uuid.UUID(org.participant_id)})
        found = await Direct(read).first(session, {"pid": uuid.UUID(org.participant_id)})
    assert found is not None
    direct = found[0]
    for value in (through_orm, direct):
        assert value == given
        assert value.tzinfo is UTC and value.hour == 10
