"""The trading part of the demo: search, quote, order, pay, licence, delivery, the gateway, usage,
audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from market.demo.catalogue import API_PRODUCT_TITLE

# What every demo buyer declares: the purpose and scenario the products are licensed for.
DEMO_USE = {"purpose": "risk_control", "scenario": "SME credit risk scoring"}


def find_demo_product(n: Any, client: httpx.Client, mode: str, title: str) -> dict[str, Any] | None:
    """The seeded product of this delivery mode from the public catalogue, by its title."""
    found = n.check(
        f"GET /v1/catalog?delivery_mode={mode}",
        client.get(f"/v1/catalog?delivery_mode={mode}&limit=200"),
        200,
    )
    listed = [item for item in (found or {}).get("items", []) if item["title"] == title]
    if not listed:
        n.say(f"   {title} is not listed: was the demo data seeded by `market serve`?")
        n.failures += 1
        return None
    product: dict[str, Any] = listed[0]
    return product


def ask_quote(
    n: Any, client: httpx.Client, buyer: dict[str, str], product_id: str, quantity: int, label: str
) -> dict[str, Any] | None:
    answer: dict[str, Any] | None = n.check(
        label,
        client.post(
            "/v1/quotes", headers=buyer, json={"product_id": product_id, "quantity": quantity, **DEMO_USE}
        ),
        201,
    )
    return answer


def order_and_confirm(
    n: Any,
    client: httpx.Client,
    buyer: dict[str, str],
    operator: dict[str, str],
    quote: dict[str, Any],
    confirmation_label: str,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Order a sealed quote and have the operator confirm the bank transfer: (order, payment)
    once a licence exists, else None (the failed step has been reported)."""
    order = n.check(
        "POST /v1/orders",
        client.post(
            "/v1/orders",
            json={"quote_id": quote["id"]},
            headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
        ),
        201,
    )
    if not order:
        return None
    paid = n.check(
        confirmation_label,
        client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator),
        200,
    )
    if not paid or not paid.get("licence_id"):
        return None
    return order, paid


def trade_flow(
    n: Any,
    client: httpx.Client,
    *,
    seller: dict[str, str],
    buyer: dict[str, str],
    buyer_machine: dict[str, str],
) -> None:
    from market.demo.script import login

    operator = login(client, "operator@demo.example.cn")
    auditor = login(client, "auditor@demo.example.cn")
    n.say("3. The buyer's machine searches the public catalogue for API products.")
    product = find_demo_product(n, client, "api", API_PRODUCT_TITLE)
    if not product:
        return
    n.say(f"   found: {product['title']} (from {product['price_from_minor'] / 100:.2f} CNY)")
    n.say("4. A dry run: would this trade be allowed, and why?")
    check = n.check(
        "POST /v1/compliance/checks",
        client.post(
            "/v1/compliance/checks",
            headers=buyer_machine,
            json={
                "kind": "trade",
                "product_id": product["id"],
                "purpose": "risk_control",
                "scenario": "SME credit risk scoring",
            },
        ),
        200,
    )
    if check:
        n.say(
            f"   outcome {check['outcome']}; "
            f"rules noted: {[f['rule_id'] for f in check['findings']] or 'none'}"
        )
    n.say("5. The buyer asks for a quote for 3,000 calls.")
    quote = ask_quote(n, client, buyer_machine, product["id"], 3000, "POST /v1/quotes")
    if not quote:
        return
    for line in quote["lines"]:
        n.say(f"   {line['description']}: {line['amount_minor'] / 100:.2f}  ({line['reason']})")
    n.say(f"   total {quote['total_minor'] / 100:.2f} {quote['currency']}, sealed {quote['digest'][:16]}…")
    n.say("6. The buyer orders exactly that quote (compliance is checked again); the operator confirms")
    n.say("   the bank transfer arrived.")
    bought = order_and_confirm(
        n, client, buyer_machine, operator, quote, "POST /v1/payments/{id}/confirmation"
    )
    if not bought:
        return
    order, paid = bought
    licence_id = paid["licence_id"]
    n.say(f"   order {order['id']}: exchange commission {order['commission_minor'] / 100:.2f}")
    n.say(f"   status {paid['status']}; licence {licence_id}")
    odrl = n.check(
        "GET /v1/licences/{id}/odrl", client.get(f"/v1/licences/{licence_id}/odrl", headers=buyer), 200
    )
    if odrl:
        n.say(f"   ODRL {odrl.get('@type')} with {len(odrl.get('permission', []))} permission(s)")
    delivery = n.check(
        "GET /v1/deliveries/{id}", client.get(f"/v1/deliveries/{licence_id}", headers=buyer), 200
    )
    if delivery and delivery.get("access_credential"):
        used = n.check(
            "POST /v1/deliveries/{id}/usage (gateway meters 120 calls)",
            client.post(
                f"/v1/deliveries/{licence_id}/usage",
                json={"calls": 120},
                headers={"X-Delivery-Credential": delivery["access_credential"]},
            ),
            200,
        )
        if used:
            n.say(f"   {used['calls_used']} of {used['call_quota']} calls used")
        from market.demo.gateway import gateway_flow

        gateway_flow(
            n,
            client,
            seller=seller,
            buyer=buyer,
            product_id=product["id"],
            licence_id=licence_id,
            credential=delivery["access_credential"],
        )
    ledger = n.check(
        "GET /v1/orders/{id}/ledger", client.get(f"/v1/orders/{order['id']}/ledger", headers=seller), 200
    )
    if ledger:
        n.say(f"   ledger balanced: {ledger['balanced']} over {len(ledger['lines'])} lines")
    n.say("10. An auditor checks the tamper-evident log.")
    head = n.check("GET /v1/audit/tree-head", client.get("/v1/audit/tree-head"), 200)
    history = n.check(
        "GET /v1/audit/trades/{order}", client.get(f"/v1/audit/trades/{order['id']}", headers=auditor), 200
    )
    if head and history:
        n.say(f"   signed tree head: {head['tree_size']} entries, root {head['root_hash'][:16]}…")
        n.say(f"   this trade's history: {', '.join(e['action'] for e in history)}")
