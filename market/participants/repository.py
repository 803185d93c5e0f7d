"""Queries on participants and their users."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.models import User
from market.participants.models import Participant


async def get(session: AsyncSession, participant_id: uuid.UUID, *, lock: bool = False) -> Participant | None:
    return await session.get(Participant, participant_id, with_for_update=lock)


async def get_many(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Participant]:
    wanted = list(dict.fromkeys(ids))
    rows = await session.execute(select(Participant).where(Participant.id.in_(wanted)))
    return {p.id: p for p in rows.scalars()}


async def user_emails(session: AsyncSession, ids: Iterable[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    stmt = select(User.participant_id, User.email).where(User.participant_id.in_(list(ids)))
    return [(pid, email) for pid, email in await session.execute(stmt) if pid is not None]
