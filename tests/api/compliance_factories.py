"""Prerequisites for compliance tests: a registered resource, its rights and a product.

Inserted through the session because the rules, not registration, are under test here;
registration itself is tested through its API in test_registry_*.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from market.catalog.models import Product, product_resources
from market.common.clock import now
from market.registry.models import DataResource, Registration
from market.rights.models import RightGrantRow
from market.rights.service import ALL_PURPOSES


async def listed_product(
    app: Any,
    seller_id: str,
    *,
    operating_right: bool = True,
    operating_purposes: tuple[str, ...] = ("commercial_analytics", "risk_control"),
    territory: str = "domestic",
    listing_status: str = "listed",
    scenarios: tuple[str, ...] = ("credit risk scoring",),
    plan_price: str = "100.00",
    **resource: Any,
) -> dict[str, str]:
    seller = uuid.UUID(seller_id)
    resource_ids = await registered_resource(app, seller_id, **resource)
    fields = {"category": "enterprise", "grade": "general", **resource}
    async with app.state.sessionmaker() as session, session.begin():
        res = await session.get(DataResource, uuid.UUID(resource_ids["resource_id"]))
        holding = await session.get(RightGrantRow, uuid.UUID(resource_ids["holding_grant_id"]))
        assert res is not None and holding is not None
        start = now() - timedelta(days=1)
        product = Product(
            seller_id=seller,
            title="经营指数",
            delivery_mode="api",
            scenarios=list(scenarios),
            price_plan={"kind": "fixed", "price": plan_price, "currency": "CNY", "plan_version": 1},
            licence_template={
                "permitted_purposes": list(operating_purposes),
                "scenarios": list(scenarios),
                "term_days": 365,
            },
            category=fields["category"],
            grade=fields["grade"],
            listing_status=listing_status,
        )
        session.add(product)
        await session.flush()
        await session.execute(product_resources.insert().values(product_id=product.id, resource_id=res.id))
        if operating_right:  # operating rights are over products (数据产品经营权)
            session.add(
                RightGrantRow(
                    kind="operating",
                    holder_id=seller,
                    granted_by_id=seller,
                    resource_id=res.id,
                    subject_kind="product",
                    subject_id=product.id,
                    parent_id=holding.id,
                    purposes=list(operating_purposes),
                    territory=territory,
                    sublicensable=False,
                    valid_from=start,
                )
            )
        return {
            "product_id": str(product.id),
            "resource_id": str(res.id),
            "holding_grant_id": str(holding.id),
        }


async def registered_resource(app: Any, seller_id: str, **resource: Any) -> dict[str, str]:
    """A registered resource with the seller's holding right (registration tested elsewhere)."""
    seller = uuid.UUID(seller_id)
    fields: dict[str, Any] = {
        "title": "企业经营数据",
        "category": "enterprise",
        "grade": "general",
        "lawful_source": "collected in own operations",
        "fingerprint_sha256": "ab" * 32,
        "status": "registered",
    }
    fields.update(resource)
    async with app.state.sessionmaker() as session, session.begin():
        res = DataResource(owner_id=seller, **fields)
        session.add(res)
        await session.flush()
        reg = Registration(
            resource_id=res.id,
            applicant_id=seller,
            status="registered",
            registration_number=f"JLDR-2026-R-{uuid.uuid4().int % 10**6:06d}",
        )
        session.add(reg)
        await session.flush()
        holding = RightGrantRow(
            kind="holding",
            holder_id=seller,
            resource_id=res.id,
            subject_kind="resource",
            subject_id=res.id,
            registration_id=reg.id,
            purposes=ALL_PURPOSES,
            territory="cross_border",
            sublicensable=True,
            valid_from=now() - timedelta(days=1),
        )
        session.add(holding)
        await session.flush()
        return {"resource_id": str(res.id), "holding_grant_id": str(holding.id)}


async def operating_right(
    app: Any,
    holder_id: str,
    resource: dict[str, str],
    product_id: str,
    purposes: tuple[str, ...] = ("commercial_analytics", "risk_control"),
    valid_to: Any = None,
) -> str:
    async with app.state.sessionmaker() as session, session.begin():
        grant = RightGrantRow(
            kind="operating",
            holder_id=uuid.UUID(holder_id),
            resource_id=uuid.UUID(resource["resource_id"]),
            subject_kind="product",
            subject_id=uuid.UUID(product_id),
            parent_id=uuid.UUID(resource["holding_grant_id"]),
            purposes=list(purposes),
            territory="domestic",
            sublicensable=False,
            valid_from=now() - timedelta(hours=1),
            valid_to=valid_to,
        )
        session.add(grant)
        await session.flush()
        return str(grant.id)
