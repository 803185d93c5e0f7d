"""Order review, completion, file delivery tokens and delivery stopped by upstream revocation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from market.catalog.models import Product
from market.common import clock
from market.delivery.service import check_download_token
from market.rights.models import RightGrantRow
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote


async def buy(client: Any, buyer: Any, quote_id: str) -> Any:
    return await client.post(
        "/v1/orders",
        json={"quote_id": quote_id},
        headers={**buyer.headers, "Idempotency-Key": f"o-{uuid.uuid4().hex}"},
    )


async def test_parked_order_is_reviewed_then_paid_and_completed(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id, grade="important")
    order = (
        await buy(client, buyer, await sealed_quote(app, product["product_id"], buyer.participant_id))
    ).json()
    assert order["status"] == "needs_review" and order["payment_reference"] is None
    pending = (await client.get("/v1/compliance/reviews", headers=operator)).json()["items"]
    assert [p["subject_id"] for p in pending] == [order["id"]]
    not_yet = await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    assert not_yet.status_code == 409
    approved = await client.post(
        f"/v1/orders/{order['id']}/review",
        headers=operator,
        json={"approve": True, "reason": "domestic risk control, reviewed"},
    )
    assert approved.json()["status"] == "pending_payment" and approved.json()["payment_reference"]
    again = await client.post(
        f"/v1/orders/{order['id']}/review",
        headers=operator,
        json={"approve": False, "reason": "changed my mind"},
    )
    assert again.status_code == 409
    await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator)
    assert (
        await client.post(f"/v1/orders/{order['id']}/completion", headers=seller.headers)
    ).status_code == 403
    done = await client.post(f"/v1/orders/{order['id']}/completion", headers=buyer.headers)
    assert done.status_code == 200 and done.json()["status"] == "completed"


async def test_rejected_review_releases_the_exclusive_licence(api: Api, client: Any, app: Any) -> None:
    seller, first, second = await api.org(), await api.org(roles=("buyer",)), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id, grade="important")
    async with app.state.sessionmaker() as s, s.begin():
        await s.execute(
            update(Product)
            .where(Product.id == uuid.UUID(product["product_id"]))
            .values(exclusivity="exclusive")
        )
    parked = (
        await buy(client, first, await sealed_quote(app, product["product_id"], first.participant_id))
    ).json()
    blocked = await buy(client, second, await sealed_quote(app, product["product_id"], second.participant_id))
    assert blocked.status_code == 409
    await client.post(
        f"/v1/orders/{parked['id']}/review",
        headers=operator,
        json={"approve": False, "reason": "purpose not credible"},
    )
    retry = await buy(client, second, await sealed_quote(app, product["product_id"], second.participant_id))
    assert retry.status_code == 201


async def test_file_download_token_and_upstream_revocation_stops_delivery(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    product = await listed_product(app, seller.participant_id)
    async with app.state.sessionmaker() as s, s.begin():
        await s.execute(
            update(Product).where(Product.id == uuid.UUID(product["product_id"])).values(delivery_mode="file")
        )
    order = (
        await buy(client, buyer, await sealed_quote(app, product["product_id"], buyer.participant_id))
    ).json()
    paid = (await client.post(f"/v1/payments/{order['id']}/confirmation", headers=operator)).json()
    delivery = (await client.get(f"/v1/deliveries/{paid['licence_id']}", headers=buyer.headers)).json()
    token = delivery["download_token"]
    assert str(check_download_token(app.state.settings, token)) == paid["licence_id"]
    assert (
        await client.get(f"/v1/deliveries/{paid['licence_id']}", headers=seller.headers)
    ).status_code == 404
    import pytest

    from market.errors import Unauthenticated

    with pytest.raises(Unauthenticated):
        check_download_token(app.state.settings, token[:-1] + ("0" if token[-1] != "0" else "1"))
    from datetime import timedelta

    clock.advance(timedelta(minutes=11))
    with pytest.raises(Unauthenticated):
        check_download_token(app.state.settings, token)
    async with app.state.sessionmaker() as s, s.begin():  # the holder revokes upstream
        await s.execute(
            update(RightGrantRow)
            .where(RightGrantRow.id == uuid.UUID(product["holding_grant_id"]))
            .values(revoked_at=clock.now())
        )
    gone = await client.get(f"/v1/deliveries/{paid['licence_id']}", headers=buyer.headers)
    assert gone.status_code == 410 and "upstream" in gone.json()["detail"]
    licence = (await client.get(f"/v1/licences/{paid['licence_id']}", headers=buyer.headers)).json()
    assert licence["status"] == "inactive"
