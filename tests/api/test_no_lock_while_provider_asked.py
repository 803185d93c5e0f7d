"""Nothing waits on a third party while holding a row lock: an order paid by card, an
operator's approval of a parked one, and a card top-up ask the provider with no transaction
open and no connection taken, then decide again under their locks (market.payments.checkout). Whatever
happened meanwhile (the quote ordered, the last unit sold) is answered as it would have been."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from market.audit.models import AuditEntry
from market.auth.models import ApiKey
from market.auth.principal import Principal
from market.catalog.models import Product
from market.db.session import make_engine, make_sessionmaker
from market.orders.models import Order
from market.payments import checkout
from market.payments.models import Payment
from market.payments.provider import OfflineProvider, ProviderPayment
from market.payments.stripe_provider import StripeProvider
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party
from tests.api.orders_factories import sealed_quote
from tests.api.prepaid_factories import open_account
from tests.api.stripe_fake import FakeStripe

# Another process of the exchange gives up on a lock after this long instead of queueing: what
# the old code held during the provider's call then fails the test instead of hanging it.
LOCK_WAIT_SECONDS = 2


class StripeWatched(StripeProvider):
    """Stripe (the fake), and while each payment is being created, `during` runs first, from
    outside the request: what it returns is kept in `found`, what it raises in `failures`
    (the request goes on)."""

    def __init__(self, fake: FakeStripe, during: Callable[[], Awaitable[object]]) -> None:
        super().__init__("sk_test_123", http_client=fake)
        self.fake = fake
        self.during = during
        self.found: list[object] = []
        self.failures: list[str] = []

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment:
        try:
            self.found.append(await self.during())
        except Exception as error:  # reported by the test, not as the request's answer
            self.failures.append(repr(error))
        return await super().create_payment(
            order_id=order_id, quote_id=quote_id, amount_minor=amount_minor, currency=currency
        )


@asynccontextmanager
async def another_process(app: Any) -> AsyncIterator[AsyncEngine]:
    """An engine of its own on the app's database, as another server process has, that waits
    at most LOCK_WAIT_SECONDS for a lock."""
    url = app.state.engine.url.render_as_string(hide_password=False)
    if app.state.engine.dialect.name == "postgresql":
        engine = make_engine(
            url,
            poolclass=NullPool,
            connect_args={"timeout": 10, "server_settings": {"lock_timeout": f"{LOCK_WAIT_SECONDS}s"}},
        )
    else:
        engine = make_engine(url, poolclass=NullPool)

        @event.listens_for(engine.sync_engine, "connect")
        def _wait_briefly(dbapi_connection: Any, _record: Any) -> None:
            # After the app's own pragmas (listeners run in turn): SQLite's write lock is its
            # lock, taken when a transaction begins (BEGIN IMMEDIATE).
            dbapi_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")

    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def stripe_asked_while(
    app: Any, during: Callable[[AsyncEngine], Awaitable[object]]
) -> AsyncIterator[StripeWatched]:
    """The app's payment provider is the fake Stripe for the duration; while each payment is
    being created, `during` runs first, on another process's engine."""
    async with another_process(app) as elsewhere:
        provider = StripeWatched(FakeStripe(), lambda: during(elsewhere))
        with swaps.payment_provider(app, provider):
            yield provider


def sessions_of(app: Any, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions like the app's (their audit entries signed as its are), on `engine`."""
    return make_sessionmaker(engine, info=dict(app.state.sessionmaker.kw.get("info") or {}))


Rows = dict[str, uuid.UUID]  # table -> the row of it the trade holds


async def held_back(app: Any, engine: AsyncEngine, rows: Rows) -> list[str]:
    """What the request holds while the provider is asked: connections taken from the app's
    pool, and the trade's rows another transaction cannot lock now (on SQLite: the database,
    whose write lock a transaction takes)."""
    held = []
    if taken := app.state.engine.sync_engine.pool.checkedout():
        held.append(f"{taken} connection(s) of the app's pool")
    if engine.dialect.name != "postgresql":
        try:
            async with engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
        except DBAPIError as error:
            held.append(f"the database's write lock ({error.orig!r})")
        return held
    for table, row_id in rows.items():
        try:
            async with engine.begin() as conn:
                # Names from this test, not from a request.
                await conn.execute(
                    text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE NOWAIT"), {"id": row_id}
                )
        except DBAPIError as error:
            held.append(f"{table} {row_id} ({type(error.orig).__name__})")
    return held


async def a_card_quote(api: Api, app: Any, **product: Any) -> tuple[Party, Rows, str]:
    """A buyer holding a sealed quote for a listed product; the rows an order of it locks."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    listed = await listed_product(app, seller.participant_id, **product)
    quote_id = await sealed_quote(app, listed["product_id"], buyer.participant_id, total_minor=7_700)
    rows = {
        "products": uuid.UUID(listed["product_id"]),
        "quotes": uuid.UUID(quote_id),
        "data_resources": uuid.UUID(listed["resource_id"]),
    }
    return buyer, rows, quote_id


async def place(api: Api, buyer: Party, quote_id: str) -> Any:
    return await api.client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": f"card-{uuid.uuid4().hex}"},
    )


def shown_with_its_payment_intent(order: dict[str, Any], fake: FakeStripe) -> None:
    """The order waits for the buyer's card on the one PaymentIntent keyed by its id."""
    assert order["status"] == "pending_payment", order
    intents = fake.created("payment_intents")
    assert [r["key"] for r in intents] == [f"market:order:{order['id']}"]
    assert [m for m in fake.made if m.startswith("pi_")] == [order["payment_reference"]]
    assert order["payment_client_secret"] == f"{order['payment_reference']}_secret_x"


async def payments_of(app: Any, order_id: str) -> list[tuple[str, str]]:
    async with app.state.sessionmaker() as s:
        found = await s.execute(
            select(Payment.provider, Payment.provider_ref).where(Payment.order_id == uuid.UUID(order_id))
        )
        return [(provider, reference) for provider, reference in found]


async def test_an_order_asks_stripe_holding_no_lock_and_no_connection(
    api: Api, app: Any, backend: str
) -> None:
    buyer, rows, quote_id = await a_card_quote(api, app)
    async with stripe_asked_while(app, lambda elsewhere: held_back(app, elsewhere, rows)) as stripe:
        placed = await place(api, buyer, quote_id)
    assert stripe.failures == [] and stripe.found == [[]], (stripe.failures, stripe.found)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    shown_with_its_payment_intent(order, stripe.fake)
    assert await payments_of(app, order["id"]) == [("stripe", order["payment_reference"])]
    async with app.state.sessionmaker() as s:
        # The check's own writes were rolled back: the order's decision and entries are kept once.
        actions = (
            await s.scalars(
                select(AuditEntry.action).where(AuditEntry.subject_id == order["id"]).order_by(AuditEntry.id)
            )
        ).all()
        assert actions == ["compliance.decided", "order.created", "payment.created"], actions
        product = await s.get(Product, rows["products"])
        assert product is not None and product.sold_count == 1


async def test_an_approved_review_asks_stripe_holding_no_lock_and_no_connection(
    api: Api, app: Any, backend: str
) -> None:
    operator = await api.staff("operator")
    # Important data: the trade rules park the order for an operator.
    buyer, rows, quote_id = await a_card_quote(api, app, grade="important")
    async with stripe_asked_while(app, lambda elsewhere: held_back(app, elsewhere, rows)) as stripe:
        parked = await place(api, buyer, quote_id)
        assert parked.status_code == 201 and parked.json()["status"] == "needs_review", parked.text
        assert stripe.fake.requests == []  # nothing is asked of Stripe for a parked order
        order_id = parked.json()["id"]
        rows["orders"] = uuid.UUID(order_id)
        approved = await api.client.post(
            f"/v1/orders/{order_id}/review",
            headers=operator,
            json={"approve": True, "reason": "reviewed"},
        )
    assert stripe.failures == [] and stripe.found == [[]], (stripe.failures, stripe.found)
    assert approved.status_code == 200, approved.text
    shown_with_its_payment_intent(approved.json(), stripe.fake)
    assert await payments_of(app, order_id) == [("stripe", approved.json()["payment_reference"])]


async def test_a_signed_out_buyer_asks_stripe_nothing(api: Api, app: Any, backend: str) -> None:
    buyer, _rows, quote_id = await a_card_quote(api, app)
    assert (await api.client.post("/v1/auth/logout", headers=buyer.headers)).status_code == 204
    fake = FakeStripe()
    with swaps.payment_provider(app, StripeProvider("sk_test_123", http_client=fake)):
        refused = await place(api, buyer, quote_id)
    assert refused.status_code == 401 and "sign in again" in refused.json()["detail"], refused.text
    assert fake.requests == []


async def test_an_api_keys_last_use_survives_the_rolled_back_check(api: Api, app: Any, backend: str) -> None:
    buyer, rows, quote_id = await a_card_quote(api, app)
    made = await api.client.post(
        "/v1/api-keys", json={"name": "etl", "roles": ["buyer"]}, headers=buyer.headers
    )
    assert made.status_code == 201, made.text
    buyer.headers = {"X-API-Key": made.json()["key"]}
    async with stripe_asked_while(app, lambda elsewhere: held_back(app, elsewhere, rows)) as stripe:
        placed = await place(api, buyer, quote_id)
    assert stripe.failures == [] and stripe.found == [[]], (stripe.failures, stripe.found)
    assert placed.status_code == 201, placed.text
    async with app.state.sessionmaker() as s:
        (last_used,) = (await s.scalars(select(ApiKey.last_used_at))).all()
    assert last_used is not None  # written before the check, which is rolled back


async def order_elsewhere(app: Any, elsewhere: AsyncEngine, buyer: Party, quote_id: str) -> None:
    """Another request, on `elsewhere`, orders `quote_id` for `buyer` (by bank transfer)."""
    principal = Principal(uuid.UUID(buyer.user_id), uuid.UUID(buyer.participant_id), frozenset({"buyer"}))
    async with sessions_of(app, elsewhere)() as session, session.begin():
        await checkout.place_order(
            session, app.state.runtime.settings, OfflineProvider(), principal, uuid.UUID(quote_id)
        )


@pytest.mark.parametrize(
    ("meanwhile", "problem"),
    [("the quote is ordered", "quote-already-ordered"), ("the last unit is sold", "sold-out")],
)
async def test_what_happened_while_stripe_was_asked_is_answered_and_no_second_order_is_kept(
    api: Api, app: Any, backend: str, meanwhile: str, problem: str
) -> None:
    buyer, rows, quote_id = await a_card_quote(api, app)
    product_id = rows["products"]
    if meanwhile == "the quote is ordered":
        # The same buyer's other request (another Idempotency-Key) on the same quote.
        other_buyer, other_quote = buyer, quote_id
    else:  # another buyer takes the one unit there is
        async with app.state.sessionmaker() as s, s.begin():
            await s.execute(update(Product).where(Product.id == product_id).values(stock_limit=1))
        other_buyer = await api.org(roles=("buyer",))
        other_quote = await sealed_quote(app, str(product_id), other_buyer.participant_id)

    async def order_meanwhile(elsewhere: AsyncEngine) -> None:
        await order_elsewhere(app, elsewhere, other_buyer, other_quote)

    async with stripe_asked_while(app, order_meanwhile) as stripe:
        answer = await place(api, buyer, quote_id)
    assert stripe.failures == [] and stripe.found == [None], (stripe.failures, stripe.found)
    assert len(stripe.fake.created("payment_intents")) == 1
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith(f"/{problem}")
    async with app.state.sessionmaker() as s:
        kept = (await s.execute(select(Order.quote_id, Order.payment_provider))).all()
        assert kept == [(uuid.UUID(other_quote), "offline")], kept
        # The PaymentIntent made meanwhile is kept nowhere, and never shown to the buyer.
        stripe_payments = await s.scalar(
            select(func.count()).select_from(Payment).where(Payment.provider == "stripe")
        )
        assert stripe_payments == 0
        product = await s.get(Product, product_id)
        assert product is not None and product.sold_count == 1


async def test_a_card_top_up_asks_stripe_holding_no_connection_and_a_retry_gets_the_same_intent(
    api: Api, app: Any, backend: str
) -> None:
    operator = await api.staff("operator")
    buyer = await api.org(roles=("buyer",))
    account_id = await open_account(api, operator, buyer)
    url, body = f"/v1/accounts/{account_id}/top-ups", {"amount_minor": 30_000, "method": "card"}
    headers = {**buyer.headers, "Idempotency-Key": "top-up-card-0001"}
    async with stripe_asked_while(app, lambda elsewhere: held_back(app, elsewhere, {})) as stripe:
        stripe.fake.fault = "answer lost"  # Stripe makes the PaymentIntent; we never hear of it
        lost = await api.client.post(url, json=body, headers=headers)
        assert lost.status_code == 503, lost.text
        stripe.fake.fault = None
        made = await api.client.post(url, json=body, headers=headers)
    assert stripe.failures == [] and all(found == [] for found in stripe.found), (
        stripe.failures,
        stripe.found,
    )
    assert made.status_code == 201, made.text
    # Asked twice (and the SDK retried the lost answer), Stripe made one PaymentIntent, keyed by
    # the top-up, which the retry named again.
    assert [m for m in stripe.fake.made if m.startswith("pi_")] == [made.json()["reference"]]
    assert {r["key"] for r in stripe.fake.created("payment_intents")} == {
        f"market:order:top-up-{made.json()['id']}"
    }
    again = await api.client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == made.json()
