"""A flush's writes as one statement on PostgreSQL (market.db.together, issue 21), and the unit
of work's own flush wherever that writer steps aside: the rows are the same either way, and the
objects behave as written objects do afterwards."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, inspect, select

from market.audit.log import record
from market.audit.models import AuditEntry
from market.auth.models import RefreshToken, User
from market.common.clock import now
from market.orders.models import Quote
from tests.api.factories import Api
from tests.api.prepaid_factories import funded_buyer, key, quotable_product, quote_request
from tests.api.statement_counter import counted


def _user(email: str) -> User:
    return User(email=email, display_name="Flush", password_hash="x", roles=["buyer"])


async def test_new_changed_and_audited_rows_go_in_one_statement(app: Any, backend: str) -> None:
    email = f"flush-{uuid.uuid4().hex[:8]}@example.cn"
    async with app.state.sessionmaker() as session, session.begin():
        user = _user(email)
        session.add(user)
        await session.flush()
        created_at = user.updated_at
        user_id = user.id
        with counted(app) as statements:
            # A parent changed, a child inserted that refers to it, and an audit entry: one
            # statement on PostgreSQL (the foreign key is checked at its end).
            user.display_name = "Renamed"
            session.add(
                RefreshToken(
                    user_id=user.id,
                    family_id=uuid.uuid4(),
                    token_hash=uuid.uuid4().hex,
                    user_version=0,
                    expires_at=now() + timedelta(days=1),
                )
            )
            await record(
                session, actor="test", action="flush.tested", subject_type="user", subject_id=user.id
            )
            await session.flush()
        if backend == "postgres":
            assert len(statements) == 1, statements
            assert statements[0].startswith("WITH"), statements
        else:
            assert len(statements) == 3, statements
        # Written objects are persistent and fully loaded: reading them sends nothing.
        with counted(app) as reads:
            assert inspect(user).persistent and not session.dirty and not session.new
            token = (
                await session.execute(select(RefreshToken).where(RefreshToken.user_id == user_id))
            ).scalar_one()
            assert token.used_at is None and token.revoked_at is None
            assert token.created_at is not None
        assert len(reads) == 1  # the SELECT itself; nothing lazy-loaded
    async with app.state.sessionmaker() as session:
        stored = await session.get(User, user_id)
        assert stored is not None and stored.display_name == "Renamed"
        assert stored.updated_at > created_at  # the column's onupdate applied, as the ORM would
        assert stored.token_version == 0 and stored.is_active is True
        entries = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_id == str(user_id))
        )
        assert entries == 1


async def test_a_flush_with_a_delete_is_the_unit_of_works_and_writes_the_same(app: Any, backend: str) -> None:
    first, second = (f"flush-{uuid.uuid4().hex[:8]}@example.cn" for _ in range(2))
    async with app.state.sessionmaker() as session, session.begin():
        doomed = _user(first)
        session.add(doomed)
        await session.flush()
        with counted(app) as statements:
            await session.delete(doomed)
            session.add(_user(second))
            await session.flush()
        assert not any(s.startswith("WITH") for s in statements), statements
        assert len(statements) == 2, statements
    async with app.state.sessionmaker() as session:
        emails = set(
            (await session.execute(select(User.email).where(User.email.in_([first, second])))).scalars()
        )
        assert emails == {second}


async def test_a_failing_part_writes_nothing_of_the_statement(app: Any, backend: str) -> None:
    email = f"flush-{uuid.uuid4().hex[:8]}@example.cn"
    async with app.state.sessionmaker() as session, session.begin():
        session.add(_user(email))
    async with app.state.sessionmaker() as session:
        session.add(_user(f"other-{email}"))
        session.add(_user(email))  # the e-mail is taken: the unique index refuses this row
        await record(session, actor="test", action="flush.refused", subject_type="user", subject_id=email)
        try:
            await session.commit()
        except Exception as error:  # IntegrityError, raised by either driver
            assert "unique" in str(error).lower() or "duplicate" in str(error).lower()
        else:
            raise AssertionError("a duplicate e-mail was written")
    async with app.state.sessionmaker() as session:
        assert (
            await session.scalar(select(func.count()).select_from(User).where(User.email == f"other-{email}"))
            == 0
        )
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_id == email)
            )
            == 0
        )


async def test_one_key_sent_twice_at_once_makes_one_quote(api: Api, app: Any, backend: str) -> None:
    """Both requests do the work; the key is claimed in the statement that writes it, so the
    second waits for the first, finds the key taken, rolls its quote back and replays."""
    product_id = await quotable_product(api, await api.org())
    operator = await api.staff("operator")
    buyer, _account = await funded_buyer(api, operator, 50_000)
    headers = {**buyer.headers, **key("twice-at-once")}
    body = quote_request(product_id)
    answers = await asyncio.gather(
        *(api.client.post("/v1/quotes", json=body, headers=headers) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    async with app.state.sessionmaker() as session:
        quotes = await session.scalar(
            select(func.count()).select_from(Quote).where(Quote.product_id == uuid.UUID(product_id))
        )
        assert quotes == 1
