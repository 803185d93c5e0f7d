"""A trade reads, of its resources' rights trees, only what it stands on: the holding rights and
its product's operating right with the grants above it. A resource sold through many products
and resellers then costs each trade no more than one sold through a single product (issue 21:
the purchase benchmark's CPU per purchase grew by about 1 % per grant in the tree), while the
chain a trade checks and its licence records stay whole."""

from __future__ import annotations

import uuid
from typing import Any

from market.catalog.repository import RESOURCE_IDS
from market.compliance.repository import Subquery, rules_read
from tests.api.compliance_factories import registered_resource
from tests.api.factories import Api
from tests.api.settlement_factories import key, order, paid_order, product_on
from tests.api.test_settlement_exclusivity import processing_right


async def test_a_trade_reads_the_chain_it_stands_on_not_the_whole_tree(
    api: Api, client: Any, app: Any
) -> None:
    seller, reseller = await api.org(), await api.org()
    operator = await api.staff("operator")
    resource = await registered_resource(app, seller.participant_id)
    for _ in range(10):  # the holder's other products over the same data
        await product_on(app, seller.participant_id, resource)
    downstream = await processing_right(app, reseller.participant_id, resource)
    theirs = await product_on(app, reseller.participant_id, resource, parent_grant_id=downstream)

    async with app.state.sessionmaker() as session:
        read = await rules_read(
            session,
            uuid.UUID(theirs),
            [uuid.UUID(reseller.participant_id)],
            Subquery(RESOURCE_IDS, {"resource_ids_of": uuid.UUID(theirs)}),
        )
    kinds = sorted((g.kind, str(g.holder_id)) for g in read.grants)
    assert kinds == sorted(
        [
            ("holding", seller.participant_id),
            ("processing", reseller.participant_id),
            ("operating", reseller.participant_id),
        ]
    )

    # Bought through the reseller, the licence records the whole chain, root first.
    paid = await paid_order(api, await api.org(roles=("buyer",)), theirs, operator)
    licence = await client.get(f"/v1/licences/{paid['licence_id']}", headers=operator)
    assert licence.status_code == 200, licence.text
    chain = licence.json()["terms"]["chain"]
    assert chain[0] == resource["holding_grant_id"] and chain[1] == downstream and len(chain) == 3
    # The processing right revoked: a trade through it is refused, the holder's own is not.
    revoked = await client.post(
        f"/v1/grants/{downstream}/revocation",
        json={"reason": "contract ended"},
        headers={**operator, **key()},
    )
    assert revoked.status_code == 200, revoked.text
    refused = await order(api, await api.org(roles=("buyer",)), theirs)
    assert refused.status_code in (403, 409, 422), refused.text
    own = await product_on(app, seller.participant_id, resource)
    assert (await order(api, await api.org(roles=("buyer",)), own)).status_code == 201
