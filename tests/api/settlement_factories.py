"""Settlement scenarios: products on a shared resource, paid orders, and the closing checks every
scenario ends with (the books balance to the fen, the audit log verifies)."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from market.audit.macs import entry_keyring
from market.audit.verify_db import verify_database
from market.catalog.models import Product, product_resources
from market.common.clock import now
from market.payments.models import LedgerEntry, Payment
from market.rights.models import RightGrantRow
from tests.api.audit_factories import publish_now
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, Party
from tests.api.orders_factories import sealed_quote


def key(prefix: str = "k") -> dict[str, str]:
    return {"Idempotency-Key": f"{prefix}-{uuid.uuid4().hex}"}


async def product_on(
    app: Any,
    seller_id: str,
    resource: dict[str, str],
    *,
    exclusivity: str = "non_exclusive",
    purposes: tuple[str, ...] = ("commercial_analytics", "risk_control"),
    parent_grant_id: str | None = None,
    **template: Any,
) -> str:
    """A listed product of `seller_id` on an existing registered resource, with the seller's
    operating right over it hanging from `parent_grant_id` (default: the resource's holding)."""
    async with app.state.sessionmaker() as session, session.begin():
        product = Product(
            seller_id=uuid.UUID(seller_id),
            title="经营指数",
            delivery_mode="api",
            scenarios=["credit risk scoring"],
            price_plan={"kind": "fixed", "price": "100.00", "currency": "CNY", "plan_version": 1},
            licence_template={
                "permitted_purposes": list(purposes),
                "scenarios": ["credit risk scoring"],
                "term_days": 365,
                **template,
            },
            category="enterprise",
            grade="general",
            listing_status="listed",
            exclusivity=exclusivity,
        )
        session.add(product)
        await session.flush()
        await session.execute(
            product_resources.insert().values(
                product_id=product.id, resource_id=uuid.UUID(resource["resource_id"])
            )
        )
        session.add(
            RightGrantRow(
                kind="operating",
                holder_id=uuid.UUID(seller_id),
                granted_by_id=uuid.UUID(seller_id),
                resource_id=uuid.UUID(resource["resource_id"]),
                subject_kind="product",
                subject_id=product.id,
                parent_id=uuid.UUID(parent_grant_id or resource["holding_grant_id"]),
                purposes=list(purposes),
                territory="domestic",
                sublicensable=False,
                valid_from=now() - timedelta(days=1),
            )
        )
        return str(product.id)


async def set_template(app: Any, product_id: str, **template: Any) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.get(Product, uuid.UUID(product_id))
        assert row is not None
        row.licence_template = {**row.licence_template, **template}


async def order(
    api: Api, buyer: Party, product_id: str, *, total_minor: int = 36_500, purpose: str = "risk_control"
) -> Any:
    """The buyer orders the product from a sealed quote (the raw response)."""
    quote_id = await sealed_quote(
        api.app, product_id, buyer.participant_id, total_minor=total_minor, purpose=purpose
    )
    return await api.client.post(
        "/v1/orders", json={"quote_id": quote_id}, headers={**buyer.headers, **key("order")}
    )


async def paid_order(
    api: Api, buyer: Party, product_id: str, operator: dict[str, str], *, total_minor: int = 36_500
) -> dict[str, Any]:
    """An order the operator confirmed paid (offline transfer): delivered, with its licence."""
    placed = await order(api, buyer, product_id, total_minor=total_minor)
    assert placed.status_code == 201, placed.text
    paid = await api.client.post(f"/v1/payments/{placed.json()['id']}/confirmation", headers=operator)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "delivered", paid.json()
    body: dict[str, Any] = paid.json()
    return body


async def payout_of(api: Api, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    page = (await api.client.get("/v1/payouts/orders?limit=200", headers=headers)).json()
    return next(p for p in page["items"] if p["order_id"] == order_id)


async def books_balance(api: Api, operator: dict[str, str]) -> dict[str, dict[str, int]]:
    """The scenario's closing check, to the fen: for every seller, what buyers paid equals what
    is held + due + paid out + commission + refunded (nothing still owed to buyers); the
    statement agrees with the payments' own records; every order's ledger sums to zero; and the
    audit log verifies. Returns each seller's totals."""
    rows = (await api.client.get("/v1/payouts", headers=operator)).json()["rows"]
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:  # oldest period first: balances are the last row's
        t = totals[row["seller_id"]]
        for flow in ("paid_by_buyers_minor", "commission_minor", "refunded_minor", "paid_out_minor"):
            t[flow] += row[flow]
        for balance in ("held_minor", "due_minor", "refunds_owed_minor"):
            t[balance] = row[balance]
    for seller, t in totals.items():
        assert t["refunds_owed_minor"] == 0, (seller, dict(t))
        assert t["paid_by_buyers_minor"] == (
            t["held_minor"]
            + t["due_minor"]
            + t["paid_out_minor"]
            + t["commission_minor"]
            + t["refunded_minor"]
        ), (seller, dict(t))
    async with api.app.state.sessionmaker() as s:
        captured = await s.scalar(
            select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                Payment.status.in_(["succeeded", "partially_refunded", "refunded"])
            )
        )
        refunded = await s.scalar(select(func.coalesce(func.sum(Payment.refunded_minor), 0)))
        unbalanced = (
            await s.execute(
                select(LedgerEntry.order_id)
                .group_by(LedgerEntry.order_id)
                .having(func.sum(LedgerEntry.amount_minor) != 0)
            )
        ).all()
    assert sum(t["paid_by_buyers_minor"] for t in totals.values()) == captured
    assert sum(t["refunded_minor"] for t in totals.values()) == refunded
    assert unbalanced == []
    await audit_log_verifies(api.app)
    return {seller: dict(t) for seller, t in totals.items()}


async def audit_log_verifies(app: Any) -> None:
    """`market audit verify` over the database: every entry sequenced, every head checks."""
    published = await publish_now(app)
    # Every entry the features wrote (escrow, disputes, refunds, notifications, jobs) carries the
    # service's MAC: none was refused, and the verifier holding the key finds none forged.
    assert published.consistent and published.quarantined == [], published
    public = app.state.settings.exchange_signing_key().public_key().public_bytes_raw()
    report = await verify_database(
        app.state.settings.effective_database_url,
        base64.b64encode(public).decode(),
        mac_keys=entry_keyring(app.state.settings),
    )
    assert report.ok, report
    assert report.entries == published.tree_size


async def sale(
    api: Api, *, total_minor: int = 36_500, **template: Any
) -> tuple[Party, Party, dict[str, str], dict[str, str], dict[str, Any]]:
    """A seller's listed product (its licence template changed by `template`) that a buyer
    bought and an operator confirmed paid: (seller, buyer, operator, product, order)."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(api.app, seller.participant_id)
    if template:
        await set_template(api.app, product["product_id"], **template)
    return (
        seller,
        buyer,
        operator,
        product,
        await paid_order(api, buyer, product["product_id"], operator, total_minor=total_minor),
    )
