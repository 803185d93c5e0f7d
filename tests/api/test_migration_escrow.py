"""Revision 0019 settles the trades paid before escrow existed: their proceeds become due (or the
payout is cancelled if all was refunded), their ledger keeps balancing under the new accounts,
and their live orders claim their resources as new ones do, so an exclusive sale stays reserved."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import column, inspect, select, table
from sqlalchemy.orm import DeclarativeBase

from market.catalog.models import Product, product_resources
from market.db.migrate import upgrade
from market.db.session import make_engine
from market.orders.models import Order, OrderClaim, Quote
from market.participants.models import Participant
from market.payments.models import LedgerEntry, Payout
from market.registry.models import DataResource
from tests.api.test_migrations import empty_database

PAID_AT = datetime(2026, 11, 20, 8, tzinfo=UTC)


async def legacy_insert(conn: Any, model: type[DeclarativeBase] | Any, **values: Any) -> None:
    """Insert a row into the table as an older revision made it: only the columns it has (the
    model's own defaults fill those not given), typed as the model types them; columns added
    by later revisions are not written."""
    mapped: Any = model.__table__
    name = str(mapped.name)
    existing = await conn.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns(name)})
    row = dict(values)
    for col in mapped.columns:
        if col.name in existing and col.name not in row and col.default is not None:
            row[col.name] = col.default.arg(None) if col.default.is_callable else col.default.arg
    await conn.execute(table(name, *[column(k, mapped.c[k].type) for k in row]).insert().values(**row))


async def _old_trade(
    conn: Any, seller: uuid.UUID, buyer: uuid.UUID, resource: uuid.UUID, status: str
) -> uuid.UUID:
    """An exclusive product sold before revision 0019, its charge booked the old way."""
    product, quote, order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await legacy_insert(
        conn,
        Product,
        id=product,
        seller_id=seller,
        title="old",
        delivery_mode="api",
        scenarios=["s"],
        price_plan={},
        licence_template={},
        category="enterprise",
        grade="general",
        listing_status="listed",
        exclusivity="exclusive",
    )
    await conn.execute(product_resources.insert().values(product_id=product, resource_id=resource))
    await legacy_insert(
        conn,
        Quote,
        id=quote,
        product_id=product,
        buyer_id=buyer,
        quantity="1",
        purpose="risk_control",
        scenario="s",
        body={},
        total_minor=10_000,
        currency="CNY",
        digest="d",
        plan_version=1,
        issued_at=PAID_AT,
        expires_at=PAID_AT,
        status="ordered",
    )
    await legacy_insert(
        conn,
        Order,
        id=order,
        quote_id=quote,
        product_id=product,
        buyer_id=buyer,
        seller_id=seller,
        status=status,
        total_minor=10_000,
        currency="CNY",
        commission_minor=500,
        purpose="risk_control",
        scenario="s",
        quantity="1",
        payment_provider="offline",
        paid_at=PAID_AT,
        created_at=PAID_AT,
    )
    movement = uuid.uuid4()
    lines = [
        ("charge", "cash:clearing", 10_000),
        ("payout_due", "payable:seller", -9_500),
        ("commission", "revenue:commission", -500),
    ]
    if status == "refunded":
        lines += [
            ("refund", "cash:clearing", -10_000),
            ("payout_reversal", "payable:seller", 9_500),
            ("commission_reversal", "revenue:commission", 500),
        ]
    for kind, account, amount in lines:
        await legacy_insert(
            conn,
            LedgerEntry,
            order_id=order,
            movement_id=movement,
            kind=kind,
            account=account,
            amount_minor=amount,
            currency="CNY",
        )
    return order


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_trades_paid_before_escrow_are_due_and_keep_their_claims(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with empty_database(kind, request, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0015")
        engine = make_engine(url)
        seller, buyer, resource = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as conn:
            for party in (seller, buyer):
                await legacy_insert(conn, Participant, id=party, kind="organisation", name="p")
            await legacy_insert(
                conn,
                DataResource,
                id=resource,
                owner_id=seller,
                title="r",
                category="enterprise",
                grade="general",
                lawful_source="own",
            )
            delivered = await _old_trade(conn, seller, buyer, resource, "delivered")
            refunded = await _old_trade(conn, seller, buyer, resource, "refunded")
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        async with engine.connect() as conn:
            payouts = {p.order_id: p for p in (await conn.execute(select(Payout))).all()}
            accounts = {a for (a,) in (await conn.execute(select(LedgerEntry.account).distinct())).all()}
            claims = (await conn.execute(select(OrderClaim))).all()
        await engine.dispose()
    assert (payouts[delivered].status, payouts[refunded].status) == ("due", "cancelled")
    assert payouts[delivered].held_until == PAID_AT
    assert accounts == {"cash:clearing", "payable:seller:due", "revenue:commission"}
    [claim] = claims  # only the live order claims its resource, exclusively
    assert (claim.order_id, claim.resource_id, claim.exclusive, claim.purpose) == (
        delivered,
        resource,
        True,
        "risk_control",
    )
    assert claim.ends_at > claim.starts_at == PAID_AT
