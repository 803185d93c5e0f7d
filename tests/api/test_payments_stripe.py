"""The Stripe provider end to end: PaymentIntents with our idempotency keys, signed webhooks
applied once and in any order, refunds through the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.orders.models import Order
from market.payments.models import Refund, WebhookEvent
from market.payments.stripe_provider import StripeProvider
from tests.api import runtime_swaps as swaps
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.stripe_fake import FakeStripe, signed_event


@pytest.fixture
def fake_stripe(app: Any) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with swaps.payment_provider(app, StripeProvider("sk_test_123", http_client=fake)):
        yield fake


async def quoted(api: Api, app: Any, total_minor: int) -> tuple[Any, Any, str]:
    """A seller with a listed product, and a buyer holding a sealed quote for it."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    product = await listed_product(app, seller.participant_id)
    quote_id = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=total_minor)
    return seller, buyer, quote_id


async def ordered(
    api: Api, client: Any, app: Any, total_minor: int = 20_000
) -> tuple[Any, Any, dict[str, Any]]:
    seller, buyer, quote_id = await quoted(api, app, total_minor)
    r = await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert r.status_code == 201, r.text
    return seller, buyer, r.json()


async def post_event(client: Any, event_type: str, obj: dict[str, Any], event_id: str) -> Any:
    body, headers = signed_event(event_type, obj, event_id)
    return await client.post("/v1/payments/stripe/webhook", content=body, headers=headers)


async def paid(client: Any, order: dict[str, Any], event_id: str) -> str:
    """Stripe reports the order's PaymentIntent paid in full; returns the webhook's outcome."""
    amount = order["total_minor"]
    intent = {"id": order["payment_reference"], "amount": amount, "amount_received": amount}
    return str((await post_event(client, "payment_intent.succeeded", intent, event_id)).json()["outcome"])


async def ledger(client: Any, order_id: str, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/orders/{order_id}/ledger", headers=headers)).json()
    return body


async def test_order_creates_one_payment_intent_keyed_by_our_ids(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    _seller, buyer, quote_id = await quoted(api, app, 8_800)
    headers = {**buyer.headers, "Idempotency-Key": "same-key-twice-0001"}
    first = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    second = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    intents = fake_stripe.created("payment_intents")
    assert len(intents) == 1
    order = first.json()
    assert intents[0]["key"] == f"market:order:{order['id']}"
    assert intents[0]["body"]["amount"] == "8800" and intents[0]["body"]["currency"] == "cny"
    assert intents[0]["body"]["metadata[order_id]"] == order["id"]
    assert intents[0]["body"]["metadata[quote_id]"] == quote_id
    assert order["payment_client_secret"].startswith("pi_fake_")


async def test_success_webhook_replayed_charges_once(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    seller, buyer, order = await ordered(api, client, app)
    intent = {
        "id": order["payment_reference"],
        "object": "payment_intent",
        "amount": 20_000,
        "amount_received": 20_000,
        "status": "succeeded",
    }
    for _ in range(3):
        r = await post_event(client, "payment_intent.succeeded", intent, "evt_success_1")
        assert r.status_code == 200
    now_order = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert now_order["status"] == "delivered" and now_order["licence_id"]
    lines = (await ledger(client, order["id"], seller.headers))["lines"]
    assert [line["kind"] for line in lines].count("charge") == 1
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEvent)) == 1


async def test_refund_event_before_success_event_leaves_order_refunded(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    seller, buyer, order = await ordered(api, client, app)
    pi = order["payment_reference"]
    refunded = await post_event(
        client,
        "charge.refunded",
        {
            "id": "ch_1",
            "object": "charge",
            "payment_intent": pi,
            "amount": 20_000,
            "amount_refunded": 20_000,
        },
        "evt_refund_1",
    )
    assert refunded.json()["outcome"] == "refunded"
    late = await post_event(
        client,
        "payment_intent.succeeded",
        {"id": pi, "object": "payment_intent", "amount": 20_000, "amount_received": 20_000},
        "evt_success_late",
    )
    assert late.json()["outcome"] == "already applied"
    final = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert final["status"] == "refunded"
    book = await ledger(client, order["id"], seller.headers)
    assert book["balanced"] and [x["kind"] for x in book["lines"]].count("charge") == 1


async def test_forged_signature_is_400_and_changes_nothing(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    _, buyer, order = await ordered(api, client, app)
    intent = {"id": order["payment_reference"], "amount": 20_000, "amount_received": 20_000}
    body, headers = signed_event("payment_intent.succeeded", intent, "evt_forged", secret="whsec_attacker")
    r = await client.post("/v1/payments/stripe/webhook", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/bad-webhook-signature")
    unsigned = await client.post(
        "/v1/payments/stripe/webhook", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 400
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEvent)) == 0


async def test_dispute_and_api_refund_with_stripe(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    seller, _buyer, order = await ordered(api, client, app, total_minor=10_001)
    pi = order["payment_reference"]
    await paid(client, order, "evt_ok")
    disputed = await post_event(
        client,
        "charge.dispute.created",
        {"id": "dp_1", "payment_intent": pi, "amount": 10_001, "reason": "product_not_received"},
        "evt_dispute",
    )
    assert disputed.json()["outcome"] == "disputed"
    operator = await api.staff("operator")
    refund = await client.post(
        f"/v1/orders/{order['id']}/refund",
        headers={**operator, "Idempotency-Key": "refund-dispute-0001"},
        json={"reason": "dispute settled for the buyer", "amount_minor": 3_333},
    )
    assert refund.status_code == 201, refund.text
    sent = fake_stripe.created("refunds")
    assert len(sent) == 1 and sent[0]["key"] == f"market:refund:{refund.json()['id']}"
    # Stripe then reports the same refund: applied already, nothing doubles.
    echoed = await post_event(
        client,
        "charge.refunded",
        {"id": "ch_x", "payment_intent": pi, "amount": 10_001, "amount_refunded": 3_333},
        "evt_echo",
    )
    assert echoed.json()["outcome"] == "already applied"
    book = await ledger(client, order["id"], seller.headers)
    assert book["balanced"]
    refunds = [x for x in book["lines"] if x["kind"] == "refund"]
    assert sum(x["amount_minor"] for x in refunds) == -3_333


@pytest.mark.parametrize(
    ("fault", "status", "problem"),
    [
        ("unreachable", 503, "payment-provider-unavailable"),
        ("500", 503, "payment-provider-unavailable"),
        ("400", 502, "payment-provider-error"),
    ],
)
async def test_stripe_failing_at_order_time_answers_a_clear_problem_and_keeps_nothing(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe, fault: str, status: int, problem: str
) -> None:
    _seller, buyer, quote_id = await quoted(api, app, 5_000)
    headers = {**buyer.headers, "Idempotency-Key": f"stripe-{fault}-order"}
    orders_before, audit_before = await row_count(app, Order), await row_count(app, AuditEntry)
    fake_stripe.fault = fault
    failed = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    assert failed.status_code == status, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["type"].endswith("/" + problem)
    assert "Stripe" in failed.json()["detail"]
    if status == 503:
        assert failed.headers["Retry-After"] == "5"
    assert "sk_test" not in failed.text and "(fake)" not in failed.text  # Stripe's words stay in the log
    assert (await row_count(app, Order), await row_count(app, AuditEntry)) == (orders_before, audit_before)
    # Stripe is back: the same key places the order, once.
    fake_stripe.fault = None
    placed = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    assert placed.status_code == 201, placed.text
    assert await row_count(app, Order) == orders_before + 1


async def test_order_whose_payment_answer_was_lost_is_retried_onto_the_same_payment_intent(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    _seller, buyer, quote_id = await quoted(api, app, 5_000)
    headers = {**buyer.headers, "Idempotency-Key": "stripe-lost-order-1"}
    fake_stripe.fault = "answer lost"  # Stripe makes the PaymentIntent; we never hear of it
    lost = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    assert lost.status_code == 503, lost.text
    fake_stripe.fault = None
    placed = await client.post("/v1/orders", json={"quote_id": quote_id}, headers=headers)
    assert placed.status_code == 201, placed.text
    assert [m for m in fake_stripe.made if m.startswith("pi_")] == [placed.json()["payment_reference"]]
    assert {r["key"] for r in fake_stripe.created("payment_intents")} == {
        f"market:order:{placed.json()['id']}"
    }


async def test_refund_whose_answer_was_lost_is_retried_without_refunding_twice(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    seller, _buyer, order = await ordered(api, client, app, total_minor=10_000)
    pi = order["payment_reference"]
    paid = await post_event(
        client,
        "payment_intent.succeeded",
        {"id": pi, "amount": 10_000, "amount_received": 10_000},
        "evt_paid",
    )
    assert paid.json()["outcome"] == "paid"
    operator = {**await api.staff("operator"), "Idempotency-Key": "refund-lost-answer-1"}
    body = {"reason": "partial: half the records were missing", "amount_minor": 4_000}
    url = f"/v1/orders/{order['id']}/refund"

    # Stripe refunds, but every answer (the SDK's own retries too) is lost on the way back.
    fake_stripe.fault = "answer lost"
    lost = await client.post(url, json=body, headers=operator)
    assert lost.status_code == 503, lost.text
    assert lost.json()["type"].endswith("/payment-provider-unavailable")
    assert not [
        x for x in (await ledger(client, order["id"], seller.headers))["lines"] if x["kind"] == "refund"
    ]
    # The refund is decided and owed to the buyer; no money went back yet.
    async with app.state.sessionmaker() as s:
        assert [r.status for r in (await s.execute(select(Refund))).scalars()] == ["requested"]

    # The operator retries with the same key: Stripe is asked for the same refund again.
    fake_stripe.fault = None
    retried = await client.post(url, json=body, headers=operator)
    assert retried.status_code == 201, retried.text
    again = await client.post(url, json=body, headers=operator)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retried.json()

    refunds_at_stripe = [m for m in fake_stripe.made if m.startswith("re_")]
    assert len(refunds_at_stripe) == 1, fake_stripe.requests
    assert {r["key"] for r in fake_stripe.created("refunds")} == {f"market:refund:{retried.json()['id']}"}
    book = await ledger(client, order["id"], seller.headers)
    assert book["balanced"]
    assert sum(x["amount_minor"] for x in book["lines"] if x["kind"] == "refund") == -4_000
    assert await row_count(app, Refund) == 1


async def test_refund_booked_by_a_webhook_before_the_retry_is_not_booked_again(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    seller, _buyer, order = await ordered(api, client, app, total_minor=10_000)
    assert await paid(client, order, "evt_paid_w") == "paid"
    operator = {**await api.staff("operator"), "Idempotency-Key": "refund-webhook-first-1"}
    url, body = f"/v1/orders/{order['id']}/refund", {"reason": "partial refund", "amount_minor": 4_000}
    fake_stripe.fault = "answer lost"
    assert (await client.post(url, json=body, headers=operator)).status_code == 503
    fake_stripe.fault = None
    # Stripe's charge.refunded event overtakes the operator's retry and books the 4,000.
    charge = {"id": "ch_x", "payment_intent": order["payment_reference"], "amount_refunded": 4_000}
    booked = await post_event(client, "charge.refunded", {**charge, "amount": 10_000}, "evt_refunded_w")
    assert booked.json()["outcome"] == "refunded"
    retried = await client.post(url, json=body, headers=operator)
    assert retried.status_code == 201, retried.text
    assert len([m for m in fake_stripe.made if m.startswith("re_")]) == 1
    book = await ledger(client, order["id"], seller.headers)
    assert book["balanced"]
    assert sum(x["amount_minor"] for x in book["lines"] if x["kind"] == "refund") == -4_000
    # What is left to refund is still the other 6,000.
    rest = await client.post(
        url, json={"reason": "the rest"}, headers={**operator, "Idempotency-Key": "refund-webhook-first-2"}
    )
    assert rest.status_code == 201 and rest.json()["amount_minor"] == 6_000, rest.text


async def test_refund_without_idempotency_key_is_428_and_changes_nothing(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe
) -> None:
    _seller, _buyer, order = await ordered(api, client, app, total_minor=10_000)
    assert await paid(client, order, "evt_p2") == "paid"
    operator = await api.staff("operator")
    r = await client.post(f"/v1/orders/{order['id']}/refund", json={"reason": "no key"}, headers=operator)
    assert r.status_code == 428, r.text
    assert r.json()["errors"] == [{"field": "header.Idempotency-Key", "reason": "required"}]
    assert fake_stripe.created("refunds") == [] and await row_count(app, Refund) == 0
    # The same key on another order is another refund, not a replay of this one.
    _other_seller, _b, other = await ordered(api, client, app, total_minor=10_000)
    assert await paid(client, other, "evt_p3") == "paid"
    keyed = {**operator, "Idempotency-Key": "refund-key-reused-1"}
    first = await client.post(f"/v1/orders/{order['id']}/refund", json={"reason": "one"}, headers=keyed)
    second = await client.post(f"/v1/orders/{other['id']}/refund", json={"reason": "one"}, headers=keyed)
    assert first.status_code == 201, first.text
    assert second.status_code == 422 and second.json()["type"].endswith("/idempotency-key-reused")
    assert await row_count(app, Refund) == 1


@pytest.mark.parametrize("reachable", [True, False], ids=["stripe-answers", "stripe-unreachable"])
async def test_a_card_order_cancelled_before_it_is_paid_lets_go_of_its_payment_intent(
    api: Api, client: Any, app: Any, fake_stripe: FakeStripe, reachable: bool
) -> None:
    """Its client secret was shown with the order: left open, the PaymentIntent could still be
    paid, and the money would come back only as a refund. Stripe is asked to cancel it once the
    cancellation has committed; if Stripe cannot be reached, the order is cancelled all the same
    (a payment that arrives anyway is refunded, as it always was)."""
    _seller, buyer, order = await ordered(api, client, app)
    fake_stripe.fault = None if reachable else "unreachable"
    cancelled = await client.post(
        f"/v1/orders/{order['id']}/cancellation",
        json={"reason": "bought the wrong data"},
        headers=buyer.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert fake_stripe.cancelled == ([order["payment_reference"]] if reachable else [])
    if not reachable:
        fake_stripe.fault = None
        paid_anyway = await post_event(
            client,
            "payment_intent.succeeded",
            {"id": order["payment_reference"], "amount": 20_000, "amount_received": 20_000},
            "evt_paid_after_cancel",
        )
        assert paid_anyway.status_code == 200, paid_anyway.text
        assert [r["key"] for r in fake_stripe.created("refunds")], "a late payment is refunded"
