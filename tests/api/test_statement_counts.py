"""How many statements (database round trips) the hot paths take: a prepaid purchase's quote and
order. The numbers are pinned as ceilings, so a change that adds a round trip fails here by name
(lower them when you make a path leaner)."""

from __future__ import annotations

from typing import Any

from tests.api.factories import Api, Party
from tests.api.prepaid_factories import funded_buyer, key, quotable_product, quote_request
from tests.api.statement_counter import counted

# Ceilings per backend, every round trip counted: on PostgreSQL the transaction's BEGIN and
# COMMIT too (asyncpg sends each as a query of its own); SQLite's BEGIN IMMEDIATE, twice (the
# credential check ends its read-only transaction before the request's own begins). Issue 21
# took them from quote 16 and order 35 statements (BEGIN and COMMIT aside) to:
# - quote (PostgreSQL 4): BEGIN (1); in one statement, the product and whether the buyer bought
#   from its seller before, then the trade rules' facts: both parties with the resources, their
#   rights trees, consent records, holds and the buyer's filings on them
#   (market.compliance.repository.Leading), with the caller's user, participant and
#   verification status (the bearer token's currency check rides with the request's first
#   read: market.auth.principal.checked_in_first_read) (1); then every write in one statement
#   (market.db.together): the idempotency key claimed (ON CONFLICT DO NOTHING), the audit
#   entries, the compliance decision and the quote (1); COMMIT (1).
# - prepaid order (PostgreSQL 5, a returning buyer): BEGIN (1); the quote with its product
#   row-locked, and the caller (1); the trade rules' facts with the resources row-locked, whose
#   rights trees the licence reuses (1); then every write in one statement (1): the idempotency
#   key, the balance taken (the account's id is known from the buyer's earlier debit), the look
#   for a live claim clashing with the order's (after the lock, so that a claim committed
#   meanwhile is seen), audit entries, jobs, stock count, compliance decision, notifications,
#   order, claims, quote status, ledger lines, payment, payout, licence and entitlement; COMMIT
#   (1). A buyer's first order in a process takes the balance in a statement of its own, which
#   finds the account (6).
# SQLite keeps the unit of work's statement per table (in process, no network round trips).
# Issue 21's goal: 6 each, 12 a purchase (an API key's caller is read in a statement of its
# own, one more each).
# The four-request offline purchase's order and the operator's confirmation that the transfer
# arrived (PostgreSQL): the order 5 (BEGIN, the quote with its product locked and the caller, the
# trade rules' facts with the resources locked, every write in one statement with the look for a
# clashing claim, as a prepaid order's: a bank transfer asks no third party first; COMMIT); the
# confirmation 6 (the caller, BEGIN, the payment with its order locked and the product and the
# quote's terms read with them, the trade rules' facts as they are when the money arrives, whose
# rights trees the licence reuses, every write in one statement, COMMIT).
# A quote sent with no Idempotency-Key claims no key, so nothing rolls its one write statement
# back once sent: its reads and that statement run in no transaction (market.db.direct
# .without_transaction), with no BEGIN and COMMIT (PostgreSQL 2: the product with the trade
# rules' facts and the caller, every write).
UNKEYED_QUOTE_MAX = {"sqlite": 8, "postgres": 2}
OFFLINE_ORDER_MAX = {"sqlite": 15, "postgres": 5}
CONFIRMATION_MAX = {"sqlite": 16, "postgres": 6}
QUOTE_MAX = {"sqlite": 8, "postgres": 4}
ORDER_MAX = {"sqlite": 21, "postgres": 5}
FIRST_ORDER_MAX = {"sqlite": 21, "postgres": 6}


async def _purchase(api: Api, app: Any, buyer: Party, product_id: str) -> tuple[list[str], list[str]]:
    """A prepaid purchase's statements: the quote's, then the order's."""
    with counted(app) as quoting:
        quote = await api.client.post(
            "/v1/quotes", json=quote_request(product_id), headers={**buyer.headers, **key("quote")}
        )
    assert quote.status_code == 201, quote.text
    with counted(app) as ordering:
        order = await api.client.post(
            "/v1/orders",
            json={"quote_id": quote.json()["id"], "payment_method": "account"},
            headers={**buyer.headers, **key("order")},
        )
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "delivered"
    return quoting, ordering


async def test_a_prepaid_purchase_in_few_round_trips(api: Api, app: Any, backend: str) -> None:
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org())
    buyer, _account = await funded_buyer(api, operator, 50_000)
    await api.client.get("/readyz")  # the pool holds a connection, as on a warm server
    first = await _purchase(api, app, buyer, product_id)
    again = await _purchase(api, app, buyer, product_id)
    for name, (quoting, ordering) in (("first", first), ("again", again)):
        print(f"\n{backend} {name} quote: {len(quoting)}\n  " + "\n  ".join(quoting))
        print(f"{backend} {name} order: {len(ordering)}\n  " + "\n  ".join(ordering))
    assert len(first[0]) <= QUOTE_MAX[backend], first[0]
    assert len(first[1]) <= FIRST_ORDER_MAX[backend], first[1]
    assert len(again[0]) <= QUOTE_MAX[backend], again[0]
    assert len(again[1]) <= ORDER_MAX[backend], again[1]


async def test_an_offline_purchase_in_few_round_trips(api: Api, app: Any, backend: str) -> None:
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org())
    buyer, _account = await funded_buyer(api, operator, 50_000)
    await api.client.get("/readyz")
    quote = await api.client.post("/v1/quotes", json=quote_request(product_id), headers=buyer.headers)
    assert quote.status_code == 201, quote.text
    with counted(app) as ordering:
        order = await api.client.post(
            "/v1/orders", json={"quote_id": quote.json()["id"]}, headers={**buyer.headers, **key("order")}
        )
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "pending_payment"
    with counted(app) as confirming:
        paid = await api.client.post(f"/v1/payments/{order.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "delivered" and paid.json()["licence_id"]
    print(f"\n{backend} offline order: {len(ordering)}\n  " + "\n  ".join(ordering))
    print(f"{backend} confirmation: {len(confirming)}\n  " + "\n  ".join(confirming))
    assert len(ordering) <= OFFLINE_ORDER_MAX[backend], ordering
    assert len(confirming) <= CONFIRMATION_MAX[backend], confirming


async def test_an_unkeyed_quote_needs_no_transaction(api: Api, app: Any, backend: str) -> None:
    operator = await api.staff("operator")
    product_id = await quotable_product(api, await api.org())
    buyer, _account = await funded_buyer(api, operator, 50_000)
    await api.client.get("/readyz")
    with counted(app) as quoting:
        quote = await api.client.post("/v1/quotes", json=quote_request(product_id), headers=buyer.headers)
    assert quote.status_code == 201, quote.text
    print(f"\n{backend} unkeyed quote: {len(quoting)}\n  " + "\n  ".join(quoting))
    assert len(quoting) <= UNKEYED_QUOTE_MAX[backend], quoting
    if backend == "postgres":
        assert not [s for s in quoting if s.split()[0] in ("BEGIN", "COMMIT")], quoting
    # Written whole: the quote, its compliance decision and its audit entries.
    shown = await api.client.get(f"/v1/quotes/{quote.json()['id']}", headers=buyer.headers)
    assert shown.status_code == 200 and shown.json()["digest"] == quote.json()["digest"]
    history = await api.client.get(f"/v1/audit/entries?subject_id={quote.json()['id']}", headers=operator)
    assert history.status_code == 200, history.text
    assert {"quote.issued", "compliance.decided"} <= {e["action"] for e in history.json()["items"]}
