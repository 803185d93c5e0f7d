"""Exclusivity belongs to the data: an exclusive licence reserves the resource for its purpose and
term across every product and seller down the same rights tree; a refund frees it again.
On PostgreSQL, 50 buyers racing over two exclusive products on one resource: one paid licence."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from market.delivery.models import LicenceRow
from market.orders.models import Order
from market.rights.models import RightGrantRow
from tests.api.compliance_factories import registered_resource
from tests.api.factories import Api, row_count
from tests.api.orders_factories import sealed_quote
from tests.api.settlement_factories import books_balance, key, order, paid_order, product_on


async def processing_right(app: Any, holder_id: str, resource: dict[str, str]) -> str:
    """The resource's holder grants another participant a processing right (down the same tree)."""
    async with app.state.sessionmaker() as session, session.begin():
        holding = await session.get(RightGrantRow, uuid.UUID(resource["holding_grant_id"]))
        assert holding is not None
        grant = RightGrantRow(
            kind="processing",
            holder_id=uuid.UUID(holder_id),
            granted_by_id=holding.holder_id,
            resource_id=holding.resource_id,
            subject_kind="resource",
            subject_id=holding.resource_id,
            parent_id=holding.id,
            purposes=["commercial_analytics", "risk_control"],
            territory="domestic",
            sublicensable=True,
            valid_from=holding.valid_from,
        )
        session.add(grant)
        await session.flush()
        return str(grant.id)


async def test_a_second_exclusive_listing_on_the_same_data_cannot_sell_it_again(
    api: Api, client: Any, app: Any
) -> None:
    seller, reseller = await api.org(), await api.org()
    operator = await api.staff("operator")
    resource = await registered_resource(app, seller.participant_id)
    first = await product_on(app, seller.participant_id, resource, exclusivity="exclusive")
    second = await product_on(app, seller.participant_id, resource, exclusivity="exclusive")
    plain = await product_on(app, seller.participant_id, resource)
    downstream = await processing_right(app, reseller.participant_id, resource)
    theirs = await product_on(
        app, reseller.participant_id, resource, exclusivity="exclusive", parent_grant_id=downstream
    )
    sold = await paid_order(api, await api.org(roles=("buyer",)), first, operator)

    for product in (second, plain, theirs):  # another listing, a plain one, another seller's
        refused = await order(api, await api.org(roles=("buyer",)), product)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/sold-out")
        assert "risk_control" in refused.json()["detail"]
    # Another purpose is another scope: not reserved.
    other_use = await order(api, await api.org(roles=("buyer",)), second, purpose="commercial_analytics")
    assert other_use.status_code == 201, other_use.text
    # The exclusive licence is refunded: the data is free again for that purpose.
    refunded = await client.post(
        f"/v1/orders/{sold['id']}/refund", json={"reason": "buyer withdrew"}, headers={**operator, **key()}
    )
    assert refunded.status_code == 201, refunded.text
    assert (await order(api, await api.org(roles=("buyer",)), theirs)).status_code == 201
    await books_balance(api, operator)


async def test_an_exclusive_licence_cannot_be_sold_over_licences_already_sold(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    resource = await registered_resource(app, seller.participant_id)
    plain = await product_on(app, seller.participant_id, resource)
    exclusive = await product_on(app, seller.participant_id, resource, exclusivity="exclusive")
    await paid_order(api, await api.org(roles=("buyer",)), plain, operator)
    late = await order(api, await api.org(roles=("buyer",)), exclusive)
    assert late.status_code == 409 and "cannot be sold" in late.json()["detail"]
    await books_balance(api, operator)


@pytest.mark.postgres_only
async def test_fifty_buyers_over_two_exclusive_products_on_one_resource_get_one_licence(
    api: Api, client: Any, app: Any, backend: str
) -> None:
    seller, reseller = await api.org(), await api.org()
    operator = await api.staff("operator")
    resource = await registered_resource(app, seller.participant_id)
    mine = await product_on(app, seller.participant_id, resource, exclusivity="exclusive")
    downstream = await processing_right(app, reseller.participant_id, resource)
    theirs = await product_on(
        app, reseller.participant_id, resource, exclusivity="exclusive", parent_grant_id=downstream
    )
    buyers = [await api.org(roles=("buyer",)) for _ in range(50)]
    products = [mine if i % 2 else theirs for i in range(50)]
    quotes = [await sealed_quote(app, p, b.participant_id) for p, b in zip(products, buyers, strict=True)]

    async def buy(buyer: Any, quote_id: str) -> Any:
        return await client.post(
            "/v1/orders", json={"quote_id": quote_id}, headers={**buyer.headers, **key("race")}
        )

    answers = await asyncio.gather(*(buy(b, q) for b, q in zip(buyers, quotes, strict=True)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 49, [
        a.text for a in answers if a.status_code not in (201, 409)
    ]
    [won] = [a.json() for a in answers if a.status_code == 201]
    paid = await client.post(f"/v1/payments/{won['id']}/confirmation", headers=operator)
    assert paid.json()["status"] == "delivered"
    async with app.state.sessionmaker() as s:
        live = await s.scalar(select(func.count()).select_from(Order).where(Order.status != "cancelled"))
    assert live == 1
    assert await row_count(app, LicenceRow) == 1
    await books_balance(api, operator)
