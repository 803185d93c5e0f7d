"""A right revoked while a trade over its data is being made (Art. 22: no sale without the
operating right; Art. 63(2): no buyer left paid and cut off), on PostgreSQL, where transactions
run side by side (SQLite runs one writing transaction at a time):

- a revocation that holds the resource's row while an order waits for it: once it commits,
  the order is refused and nothing is kept or charged (its read of the rights was taken before
  the revocation committed; the chain is checked again as the licence is written);
- an order that holds the row while a revocation begins: the revocation waits for it, then
  finds the licence just issued and refunds it, as it does any licence resting on the right.

Both fail on the code before: the order was delivered on a revoked right, or the revocation
answered at once without the licence, which then stayed active. The locks that order them are
taken so that payments and orders over the same data never deadlock (the last test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import text

from market.auth.principal import Principal
from market.orders.models import Order
from market.rights import service as rights
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.prepaid_factories import balance, funded_buyer, order_from_balance

pytestmark = pytest.mark.postgres_only

PRICE = 10_000


async def until_waiting(app: Any, task: Awaitable[Any], waiting: int) -> None:
    """Until `waiting` of this database's transactions wait for a lock, or `task` has ended (it
    did not wait: the test's assertions then say what it did instead), 5 s at most."""
    for _ in range(100):
        if isinstance(task, asyncio.Task) and task.done():
            return
        async with app.state.sessionmaker() as s:
            found = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if found >= waiting:
            return
        await asyncio.sleep(0.05)


async def a_prepaid_quote(api: Api, app: Any) -> tuple[dict[str, str], Party, str, str, str]:
    """An operator's headers, a buyer with a balance, its account, a sealed quote for a product
    whose seller holds its operating right, and that resource's holding right."""
    operator = await api.staff("operator")
    listed = await listed_product(app, (await api.org()).participant_id)
    buyer, account_id = await funded_buyer(api, operator, 5 * PRICE)
    quote_id = await sealed_quote(app, listed["product_id"], buyer.participant_id, total_minor=PRICE)
    return operator, buyer, account_id, quote_id, listed["holding_grant_id"]


async def test_an_order_that_waited_on_a_revocation_is_refused_and_charges_nothing(
    api: Api, app: Any, backend: str
) -> None:
    _operator, buyer, account_id, quote_id, holding = await a_prepaid_quote(api, app)
    staff = Principal(uuid.uuid4(), None, frozenset({"operator"}))
    async with app.state.sessionmaker() as revoking:
        # The registration was cancelled: an operator's revocation of the holding right, not
        # committed yet, holds the resource's row.
        await rights.revoke_grant(
            revoking, app.state.runtime.settings, staff, uuid.UUID(holding), "registration cancelled"
        )
        ordering = asyncio.create_task(order_from_balance(api, buyer, quote_id))
        await until_waiting(app, ordering, 1)
        await revoking.commit()
    answer = await ordering
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/rights-revoked-meanwhile")
    assert "Art. 22" in answer.json()["detail"]
    assert await row_count(app, Order) == 0
    assert await balance(api, buyer, account_id) == 5 * PRICE


async def test_a_revocation_waits_for_an_order_in_flight_and_refunds_its_licence(
    api: Api, app: Any, backend: str
) -> None:
    operator, buyer, account_id, quote_id, holding = await a_prepaid_quote(api, app)
    async with app.state.sessionmaker() as paying:
        # Another of the buyer's requests holds its balance: the order takes the resource's row,
        # then waits for the balance, with its licence not yet committed.
        await paying.execute(
            text("SELECT id FROM prepaid_accounts WHERE id = :id FOR UPDATE"), {"id": uuid.UUID(account_id)}
        )
        ordering = asyncio.create_task(order_from_balance(api, buyer, quote_id))
        await until_waiting(app, ordering, 1)
        revoking = asyncio.create_task(
            api.client.post(
                f"/v1/grants/{holding}/revocation",
                json={"reason": "registration cancelled"},
                headers=operator,
            )
        )
        await until_waiting(app, revoking, 2)
        await paying.rollback()
    placed, revoked = await ordering, await revoking
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "delivered"
    assert revoked.status_code == 200, revoked.text
    (cut,) = revoked.json()["licences"]
    assert (cut["licence_id"], cut["order_id"], cut["outcome"]) == (
        placed.json()["licence_id"],
        placed.json()["id"],
        "refund",
    )
    assert cut["refund_minor"] > 0
    order = await api.client.get(f"/v1/orders/{placed.json()['id']}", headers=buyer.headers)
    assert order.json()["status"] == "terminated", order.text
    # Refunded to where the money came from: the balance.
    assert await balance(api, buyer, account_id) == 5 * PRICE - PRICE + cut["refund_minor"]


async def test_payments_arriving_while_orders_are_placed_never_deadlock(
    api: Api, app: Any, backend: str
) -> None:
    """A payment's trade rules share-lock the resources (against a revocation), and its licence's
    foreign key share-locks the product, while an order of the same product locks the resources
    and, with its writes, the product: with exclusive locks both ways round, the two deadlocked
    and one was answered 503 (the purchase benchmark found it)."""
    operator = await api.staff("operator")
    listed = await listed_product(app, (await api.org()).participant_id)
    buyers = [await api.org(roles=("buyer",)) for _ in range(8)]
    for _ in range(2):
        pending = []
        for buyer in buyers:
            quote_id = await sealed_quote(app, listed["product_id"], buyer.participant_id)
            placed = await place_offline(api, buyer, quote_id)
            assert placed.status_code == 201, placed.text
            pending.append(placed.json()["id"])
        more = [await sealed_quote(app, listed["product_id"], b.participant_id) for b in buyers]
        answers = await asyncio.gather(
            *(
                api.client.post(f"/v1/payments/{order_id}/confirmation", headers=operator)
                for order_id in pending
            ),
            *(place_offline(api, buyer, quote_id) for buyer, quote_id in zip(buyers, more, strict=True)),
        )
        assert sorted(a.status_code for a in answers) == [200] * 8 + [201] * 8, [
            a.text for a in answers if a.status_code >= 300
        ]


async def place_offline(api: Api, buyer: Party, quote_id: str) -> Any:
    return await api.client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": f"offline-{quote_id}"},
    )
