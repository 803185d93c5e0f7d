"""Prepaid accounts through the API: an operator opens one, the buyer tops it up by bank
transfer and the operator confirms it; and the closing check of every prepaid scenario (each
balance is its ledger lines', every movement balances)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from market.catalog.models import Product
from market.payments.accounts.models import Account
from market.payments.ledger import PREPAID
from market.payments.models import LedgerEntry
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party


async def quotable_product(api: Api, seller: Party, unit_price: str = "100.00") -> str:
    """A listed product of `seller` with a fixed price per unit that quotes through the API."""
    product_id = (await listed_product(api.app, seller.participant_id))["product_id"]
    async with api.app.state.sessionmaker() as s, s.begin():
        row = await s.get(Product, uuid.UUID(product_id))
        assert row is not None
        row.price_plan = {"kind": "fixed", "unit_price": unit_price, "currency": "CNY", "plan_version": 1}
    return product_id


def quote_request(product_id: str) -> dict[str, Any]:
    """The body of a quote for one unit of `product_id`, for the purpose and scenario that
    `quotable_product`'s products are listed with."""
    return {
        "product_id": product_id,
        "quantity": 1,
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }


async def quote(api: Api, buyer: Party, product_id: str) -> dict[str, Any]:
    r = await api.client.post("/v1/quotes", headers=buyer.headers, json=quote_request(product_id))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def order_from_balance(
    api: Api, buyer: Party, quote_id: str, headers: dict[str, str] | None = None
) -> Any:
    return await api.client.post(
        "/v1/orders",
        json={"quote_id": quote_id, "payment_method": "account"},
        headers={**buyer.headers, **(headers or key("order"))},
    )


def key(prefix: str = "k") -> dict[str, str]:
    return {"Idempotency-Key": f"{prefix}-{uuid.uuid4().hex}"}


async def open_account(api: Api, operator: dict[str, str], buyer: Party, currency: str = "CNY") -> str:
    r = await api.client.post(
        "/v1/accounts",
        json={"participant_id": buyer.participant_id, "currency": currency},
        headers={**operator, **key("open")},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def top_up(
    api: Api, operator: dict[str, str], buyer: Party, account_id: str, amount_minor: int
) -> None:
    """A bank-transfer top-up the operator confirms arrived."""
    r = await api.client.post(
        f"/v1/accounts/{account_id}/top-ups",
        json={"amount_minor": amount_minor, "method": "bank_transfer"},
        headers={**buyer.headers, **key("top-up")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "requested"
    done = await api.client.post(f"/v1/top-ups/{r.json()['id']}/confirmation", headers=operator)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"


async def funded_buyer(api: Api, operator: dict[str, str], amount_minor: int) -> tuple[Party, str]:
    buyer = await api.org(roles=("buyer",))
    account_id = await open_account(api, operator, buyer)
    if amount_minor:
        await top_up(api, operator, buyer, account_id, amount_minor)
    return buyer, account_id


async def balance(api: Api, party: Party, account_id: str) -> int:
    r = await api.client.get(f"/v1/accounts/{account_id}", headers=party.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["balance_minor"])


async def accounts_balance(api: Api) -> None:
    """Every account's balance is minus the sum of its prepaid ledger lines, never negative, and
    every ledger movement (top-ups have no order) sums to zero."""
    async with api.app.state.sessionmaker() as s:
        held = dict(
            (
                await s.execute(
                    select(LedgerEntry.account_id, func.sum(-LedgerEntry.amount_minor))
                    .where(LedgerEntry.account == PREPAID)
                    .group_by(LedgerEntry.account_id)
                )
            ).all()
        )
        accounts = (await s.execute(select(Account.id, Account.balance_minor))).all()
        unbalanced = (
            await s.execute(
                select(LedgerEntry.movement_id)
                .group_by(LedgerEntry.movement_id)
                .having(func.sum(LedgerEntry.amount_minor) != 0)
            )
        ).all()
    assert unbalanced == []
    for account_id, balance_minor in accounts:
        assert balance_minor >= 0
        assert int(held.get(account_id, 0)) == balance_minor, (account_id, balance_minor, held)
