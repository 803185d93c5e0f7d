"""Issue 18, finding 11: every list in a request is bounded, and the rights tree is paged."""

from __future__ import annotations

from typing import Any

from market.rights.models import RightGrantRow
from tests.api.factories import Api, row_count
from tests.api.registry_factories import grant, holding_grant_id, registered_resource


async def test_a_grant_with_ten_thousand_field_limits_is_refused(api: Api, client: Any, app: Any) -> None:
    seller, processor = await api.org(), await api.org()
    done = await registered_resource(api, seller)
    resource_id = done["resource"]["id"]
    parent = await holding_grant_id(api, seller.headers, resource_id)
    before = await row_count(app, RightGrantRow)
    fields = [f"field_{i}" for i in range(10_000)]
    r = await grant(
        api,
        seller,
        parent,
        processor.participant_id,
        "processing",
        "resource",
        resource_id,
        field_limits=fields,
    )
    assert r.status_code == 422, r.text[:300]
    assert "body.field_limits" in [e["field"] for e in r.json()["errors"]]
    assert await row_count(app, RightGrantRow) == before
    ok = await grant(
        api,
        seller,
        parent,
        processor.participant_id,
        "processing",
        "resource",
        resource_id,
        field_limits=fields[:200],
    )
    assert ok.status_code == 201, ok.text[:300]


async def test_no_request_list_may_be_huge(api: Api, client: Any) -> None:
    seller = await api.org()
    r = await client.post(
        "/v1/api-keys", json={"name": "k", "roles": ["buyer"] * 1001}, headers=seller.headers
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.roles"]


async def test_the_rights_tree_is_paged(api: Api, client: Any) -> None:
    seller = await api.org()
    holders = [await api.org() for _ in range(4)]
    done = await registered_resource(api, seller)
    resource_id = done["resource"]["id"]
    parent = await holding_grant_id(api, seller.headers, resource_id)
    for holder in holders:
        made = await grant(api, seller, parent, holder.participant_id, "processing", "resource", resource_id)
        assert made.status_code == 201, made.text
    url = f"/v1/resources/{resource_id}/rights"
    whole = (await client.get(url, headers=seller.headers)).json()
    assert whole["total_grants"] == 5 and whole["next_cursor"] is None
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=seller.headers)).json()
        pages += 1

        def ids(nodes: list[dict[str, Any]]) -> list[str]:
            return [i for n in nodes for i in [n["grant"]["id"], *ids(n["children"])]]

        on_page = ids(page["roots"])
        assert len(on_page) <= 2
        seen += on_page
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert (await client.get(url, params={"limit": 5000}, headers=seller.headers)).status_code == 422
    assert (await client.get(url, params={"cursor": "x"}, headers=seller.headers)).status_code == 422
