"""The trading part of the demo: search, quote, order, pay, licence, delivery, the gateway, usage,
audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


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
    found = n.check("GET /v1/catalog?delivery_mode=api", client.get("/v1/catalog?delivery_mode=api"), 200)
    if not found or not found["items"]:
        n.say("   no listed API product: was the demo data seeded by `market serve`?")
        n.failures += 1
        return
    product = found["items"][0]
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
    quote = n.check(
        "POST /v1/quotes",
        client.post(
            "/v1/quotes",
            headers=buyer_machine,
            json={
                "product_id": product["id"],
                "quantity": 3000,
                "purpose": "risk_control",
                "scenario": "SME credit risk scoring",
            },
        ),
        201,
    )
    if not quote:
        return
    for line in quote["lines"]:
        n.say(f"   {line['description']}: {line['amount_minor'] / 100:.2f}  ({line['reason']})")
    n.say(f"   total {quote['total_minor'] / 100:.2f} {quote['currency']}, sealed {quote['digest'][:16]}…")
    n.say("6. The buyer orders exactly that quote (compliance is checked again).")
    order = n.check(
        "POST /v1/orders",
        client.post(
            "/v1/orders",
            json={"quote_id": quote["id"]},
            headers={**buyer_machine, "Idempotency-Key": uuid.uuid4().hex},
        ),
        201,
    )
    if not order:
        return
    n.say(
        f"   order {order['id']}: {order['status']}; "
        f"exchange commission {order['commission_minor'] / 100:.2f}"
    )
    n.say("7. The operator confirms the bank transfer arrived.")
    paid = n.check(
        "POST /v1/payments/{id}/confirmation",
        client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator),
        200,
    )
    if not paid or not paid.get("licence_id"):
        return
    licence_id = paid["licence_id"]
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
