"""Hot reads sent straight through the driver (market.db.direct): the same rows as SQLAlchemy
gives, in the session's transaction, seen by the engine's cursor events, and an error raised as
SQLAlchemy raises it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Integer, bindparam, column, literal, select, table, text
from sqlalchemy.exc import DBAPIError, PendingRollbackError

from market.catalog.models import Product
from market.db.detached import columns_of
from market.db.direct import Direct, add_rider, by_id, held_connection, settle_rider
from market.participants.models import Participant
from tests.api.factories import Api
from tests.api.prepaid_factories import quotable_product
from tests.api.statement_counter import counted

_PRODUCTS = select(*columns_of(Product)[1], literal("listed").label("word")).where(
    Product.__table__.c.id == bindparam("product_id")
)


async def test_the_rows_are_those_sqlalchemy_reads(api: Api, app: Any) -> None:
    product_id = uuid.UUID(await quotable_product(api, await api.org()))
    async with app.state.sessionmaker() as session:
        expected = [tuple(row) for row in await session.execute(_PRODUCTS, {"product_id": product_id})]
        got = await Direct(_PRODUCTS).rows(session, {"product_id": product_id})
    assert len(expected) == 1
    assert got == expected
    # Typed as the columns are: JSON as objects, times aware, ids as UUIDs.
    row = dict(zip([*columns_of(Product)[0], "word"], got[0], strict=True))
    assert row["id"] == product_id and isinstance(row["price_plan"], dict)
    assert row["created_at"].tzinfo is not None and row["word"] == "listed"


async def test_a_read_is_in_the_sessions_transaction_and_counted(api: Api, app: Any) -> None:
    participants = Direct(
        select(Participant.__table__.c.name).where(Participant.__table__.c.id == bindparam("pid"))
    )
    async with app.state.sessionmaker() as session:
        org = await api.org()
        row = await session.get(Participant, uuid.UUID(org.participant_id))
        assert row is not None
        participant_id = row.id
        row.name = "改名之后"
        await session.flush()  # written in this transaction, not committed
        with counted(app) as statements:
            assert await participants.first(session, {"pid": participant_id}) == ("改名之后",)
        assert any("FROM participants" in s for s in statements), statements
        await session.rollback()
        async with app.state.sessionmaker() as other:
            assert await participants.first(other, {"pid": participant_id}) != ("改名之后",)


async def test_an_error_is_raised_as_sqlalchemy_raises_it(app: Any) -> None:
    failing = Direct(
        select(column("x")).select_from(table("no_such_table")).where(column("x") == bindparam("x"))
    )
    async with app.state.sessionmaker() as session:
        with pytest.raises(DBAPIError):
            await failing.rows(session, {"x": 0})
        await session.rollback()
        assert (await session.execute(text("SELECT 1"))).scalar() == 1  # the session goes on


def test_a_list_bound_at_execution_cannot_be_compiled_once(app: Any) -> None:
    expanding = Direct(select(Product.id).where(Product.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        expanding._form(app.state.engine.dialect)


async def test_by_id_is_the_sessions_object_and_its_changes_are_written(api: Api, app: Any) -> None:
    product_id = uuid.UUID(await quotable_product(api, await api.org()))
    async with app.state.sessionmaker() as session:
        with counted(app) as statements:
            product = await by_id(session, Product, product_id)
            again = await by_id(session, Product, product_id)
        assert product is not None and again is product
        assert len([s for s in statements if s.startswith("SELECT products.")]) == 1  # then held
        assert await session.get(Product, product_id) is product
        assert await by_id(session, Product, uuid.uuid4()) is None
        product.title = "改过的标题"
        await session.commit()
    async with app.state.sessionmaker() as session:
        stored = await session.get(Product, product_id)
        assert stored is not None and stored.title == "改过的标题"


@pytest.mark.postgres_only
async def test_a_read_before_the_transaction_may_stay_outside_it(app: Any, backend: str) -> None:
    """The credential check's read: on the connection the request goes on to use, in no
    transaction; the next statement begins the request's."""
    one = Direct(select(literal(1).label("one"), bindparam("x", type_=Integer).label("x")))
    async with app.state.sessionmaker() as session:
        assert await one.first(session, {"x": 2}, begin=False) == (1, 2)
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None and not driver.is_in_transaction()
        assert await one.first(session, {"x": 3}) == (1, 3)
        assert driver.is_in_transaction()
        await session.rollback()


async def test_the_held_connection_is_the_one_the_session_would_give(app: Any) -> None:
    # Direct reads and the one-statement writer find it without SQLAlchemy's greenlet; it must be
    # exactly what `connection()` returns while the transaction is active, and nothing otherwise.
    async with app.state.sessionmaker() as session:
        assert held_connection(session.sync_session) is None  # no transaction yet
        given = await session.connection()
        assert held_connection(session.sync_session) is given.sync_connection
        await session.commit()
        assert held_connection(session.sync_session) is None  # given back to the pool
        session.add(Participant())  # required columns missing: the flush fails
        with pytest.raises(DBAPIError):
            await session.flush()
        # After the failure the fast path still agrees with connection(): the same connection,
        # or none where connection() refuses a deactivated transaction until it is rolled back.
        held = held_connection(session.sync_session)
        try:
            given = await session.connection()
        except PendingRollbackError:
            assert held is None
        else:
            assert held is given.sync_connection
        await session.rollback()
        assert await Direct(select(literal(1).label("one"))).rows(session, {}) == [(1,)]


class _Refusing:
    """A rider that refuses when checked alone, and says what it was given when carried."""

    columns: tuple[ColumnElement[Any], ...] = (literal(7).label("rider_seven"),)

    def __init__(self) -> None:
        self.taken: list[Any] = []

    def params(self) -> dict[str, Any]:
        return {}

    def take(self, values: Any) -> None:
        self.taken.append(tuple(values))

    async def settle(self, session: Any) -> None:
        raise PermissionError("checked alone, and refused")


async def test_a_rider_goes_with_the_first_read_that_carries_it(api: Api, app: Any) -> None:
    product_id = uuid.UUID(await quotable_product(api, await api.org()))
    carrying = Direct(_PRODUCTS, carries_riders=True)
    async with app.state.sessionmaker() as session:
        expected = await Direct(_PRODUCTS).rows(session, {"product_id": product_id})
        rider = _Refusing()
        add_rider(session, rider)
        # A statement that does not carry riders leaves it waiting; no row leaves it waiting too.
        assert await Direct(_PRODUCTS).rows(session, {"product_id": product_id}) == expected
        assert await carrying.rows(session, {"product_id": uuid.uuid4()}) == []
        got = await carrying.rows(session, {"product_id": product_id})
        again = await carrying.rows(session, {"product_id": product_id})
        if app.state.engine.dialect.name == "postgresql":
            await settle_rider(session)  # taken: nothing is left to check alone
            assert rider.taken == [(7,)]
        else:  # read through SQLAlchemy, a read carries nothing: the rider is checked alone
            with pytest.raises(PermissionError):
                await settle_rider(session)
            assert rider.taken == []
    assert got == again == expected  # its columns are not the statement's


async def test_nothing_is_written_before_a_rider_is_checked(api: Api, app: Any) -> None:
    org = await api.org()
    async with app.state.sessionmaker() as session:
        row = await session.get(Participant, uuid.UUID(org.participant_id))
        assert row is not None
        add_rider(session, _Refusing())
        row.name = "未经核验"
        with pytest.raises(PermissionError):
            await session.flush()
        await session.rollback()
        add_rider(session, _Refusing())
        with pytest.raises(PermissionError):
            await session.commit()
    async with app.state.sessionmaker() as session:
        kept = await session.get(Participant, uuid.UUID(org.participant_id))
        assert kept is not None and kept.name != "未经核验"
