"""A transaction's audit entries are written together, as one multi-row INSERT, in the order they
were recorded; those recorded in a savepoint that rolls back (a webhook refused half-way) or in a
transaction that rolls back are never written."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from market.audit.log import record
from market.audit.models import AuditEntry
from tests.api.statement_counter import counted


async def _actions(app: Any, subject: str) -> list[str]:
    async with app.state.sessionmaker() as s:
        stmt = select(AuditEntry.action).where(AuditEntry.subject_id == subject).order_by(AuditEntry.id)
        return list((await s.execute(stmt)).scalars())


async def test_entries_are_one_insert_and_follow_their_savepoints(app: Any, backend: str) -> None:
    subject = str(uuid.uuid4())

    async def note(s: Any, action: str) -> None:
        await record(s, actor="test", action=action, subject_type="test", subject_id=subject)

    with counted(app) as statements:
        async with app.state.sessionmaker() as s, s.begin():
            for n in range(5):
                await note(s, f"first.{n}")
    assert sum("INSERT INTO audit_entries" in x for x in statements) == 1, statements

    async with app.state.sessionmaker() as s, s.begin():
        await note(s, "outer.before")
        try:
            async with s.begin_nested():
                await note(s, "inner.refused")
                raise LookupError("refused half-way")
        except LookupError:
            pass
        async with s.begin_nested():
            await note(s, "inner.kept")
        await note(s, "outer.after")
    async with app.state.sessionmaker() as s:
        await note(s, "never.committed")
        await s.rollback()

    assert await _actions(app, subject) == [
        *(f"first.{n}" for n in range(5)),
        "outer.before",
        "inner.kept",
        "outer.after",
    ]
