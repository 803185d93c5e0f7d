"""Rights changed after a sale: no buyer stays paid and cut off. The seller's own revocation is
refused while paid licences rest on the right, unless it accepts to refund them (pro rata for
the unused term); an operator's revocation or a cancelled registration refunds them by the same
rule, or opens a dispute when the seller was paid out already. Books balanced at each end."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from market.common import clock
from market.payments.models import LedgerEntry
from market.registry.models import Registration
from tests.api.factories import Api, row_count
from tests.api.registry_factories import CHECKLIST
from tests.api.settlement_factories import books_balance, key, payout_of, sale

TOTAL, COMMISSION = 36_500, 1_825
# Sold for 365 days; cut one day later: 364/365 of the price goes back, half-up to the fen.
PRO_RATA = 36_400
COMMISSION_BACK = 1_820  # 5 % of the refund


async def operating_grant(client: Any, seller: Any, resource_id: str) -> str:
    tree = (await client.get(f"/v1/resources/{resource_id}/rights", headers=seller.headers)).json()
    return str(
        next(
            c["grant"]["id"]
            for r in tree["roots"]
            for c in r["children"]
            if c["grant"]["kind"] == "operating"
        )
    )


async def sold_yesterday(api: Api) -> tuple[Any, Any, dict[str, str], dict[str, str], dict[str, Any]]:
    seller, buyer, operator, product, order = await sale(api, total_minor=TOTAL)
    clock.advance(timedelta(days=1))
    return seller, buyer, operator, product, order


async def test_the_seller_revoking_its_own_right_must_refund_the_licences_it_cuts(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, product, order = await sold_yesterday(api)
    grant = await operating_grant(client, seller, product["resource_id"])
    url = f"/v1/grants/{grant}/revocation"
    lines = await row_count(app, LedgerEntry)

    refused = await client.post(url, json={"reason": "we stop selling this"}, headers=seller.headers)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/revocation-cuts-paid-licences")
    assert problem["licences"] == [
        {"licence_id": order["licence_id"], "order_id": order["id"], "refund_minor": PRO_RATA}
    ]
    assert order["licence_id"] in problem["detail"]
    assert await row_count(app, LedgerEntry) == lines
    still = await client.get(f"/v1/deliveries/{order['licence_id']}", headers=buyer.headers)
    assert still.status_code == 200

    revoked = await client.post(
        url, json={"reason": "we stop selling this", "refund_licences": True}, headers=seller.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["licences"] == [
        {
            "licence_id": order["licence_id"],
            "order_id": order["id"],
            "outcome": "refund",
            "refund_minor": PRO_RATA,
        }
    ]
    assert (
        await client.get(f"/v1/deliveries/{order['licence_id']}", headers=buyer.headers)
    ).status_code == 410
    after = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert after["status"] == "terminated" and "36400 fen refunded pro rata" in after["status_reason"]
    alerts = (await client.get("/v1/alerts?rule=licences-cut-by-revocation", headers=operator)).json()[
        "items"
    ]
    assert len(alerts) == 1
    # The seller keeps the day the buyer had: 100 fen, less its 5 fen of commission.
    left = await payout_of(api, seller.headers, order["id"])
    assert (left["status"], left["held_minor"]) == (
        "held",
        (TOTAL - PRO_RATA) - (COMMISSION - COMMISSION_BACK),
    )
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == PRO_RATA
    assert totals[seller.participant_id]["commission_minor"] == COMMISSION - COMMISSION_BACK


async def test_an_operator_revocation_refunds_by_rule_without_asking(api: Api, client: Any, app: Any) -> None:
    _seller, buyer, operator, product, order = await sold_yesterday(api)
    revoked = await client.post(
        f"/v1/grants/{product['holding_grant_id']}/revocation",
        json={"reason": "the holder's right was annulled by a court"},
        headers=operator,
    )
    assert revoked.status_code == 200, revoked.text
    assert [(x["outcome"], x["refund_minor"]) for x in revoked.json()["licences"]] == [("refund", PRO_RATA)]
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "terminated"
    await books_balance(api, operator)


async def test_a_forced_revocation_after_the_payout_becomes_a_dispute_for_an_operator(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, product, order = await sold_yesterday(api)
    await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    paid = await client.post(
        "/v1/payouts/transfers",
        json={"seller_id": seller.participant_id, "bank_reference": "CCB-77"},
        headers={**operator, **key()},
    )
    assert paid.status_code == 201, paid.text

    revoked = await client.post(
        f"/v1/grants/{product['holding_grant_id']}/revocation",
        json={"reason": "registration found to rest on forged evidence"},
        headers=operator,
    )
    assert [(x["outcome"], x["refund_minor"]) for x in revoked.json()["licences"]] == [("dispute", PRO_RATA)]
    [dispute] = (await client.get("/v1/disputes?status=open", headers=buyer.headers)).json()["items"]
    assert (dispute["source"], dispute["reason"], dispute["proposed_refund_minor"]) == (
        "exchange",
        "rights_problem",
        PRO_RATA,
    )
    assert (
        await client.get(f"/v1/deliveries/{order['licence_id']}", headers=buyer.headers)
    ).status_code == 410
    resolved = await client.post(
        f"/v1/disputes/{dispute['id']}/resolution",
        json={
            "outcome": "refund_partial",
            "amount_minor": PRO_RATA,
            "reason": "pro rata, recovered from the seller",
        },
        headers=operator,
    )
    assert resolved.status_code == 200, resolved.text
    assert (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()[
        "status"
    ] == "terminated"
    owed = await payout_of(api, seller.headers, order["id"])
    assert (owed["status"], owed["due_minor"]) == ("paid_out", -(PRO_RATA - COMMISSION_BACK))
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["due_minor"] == -(PRO_RATA - COMMISSION_BACK)


async def test_a_cancelled_registration_refunds_the_licences_sold_on_it(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer, operator, product, order = await sold_yesterday(api)
    async with app.state.sessionmaker() as s:
        registration = await s.scalar(
            select(Registration.id).where(Registration.resource_id == uuid.UUID(product["resource_id"]))
        )
    asked = await client.post(
        f"/v1/registrations/{registration}/cancellation",
        json={"reason": "we no longer hold this data"},
        headers=seller.headers,
    )
    assert asked.status_code == 201, asked.text
    decided = await client.post(
        f"/v1/registrations/{asked.json()['id']}/decision",
        json={"decision": "approve", "checklist": CHECKLIST},
        headers=operator,
    )
    assert decided.status_code == 200, decided.text
    after = (await client.get(f"/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert after["status"] == "terminated"
    totals = await books_balance(api, operator)
    assert totals[seller.participant_id]["refunded_minor"] == PRO_RATA
