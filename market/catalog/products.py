"""Products on registered resources and their listing lifecycle (挂牌).

draft -> (submit: compliance) -> listed | needs_review | rejected; operators then list, reject,
suspend or delist, always with a reason (不合规不挂牌).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import validate_chain
from market.audit.log import record
from market.auth.principal import Principal, ensure_visible
from market.catalog.models import Product, product_resources
from market.catalog.price_catalogue import guided_entry_at
from market.catalog.schemas import ProductCreate, ProductUpdate
from market.common.clock import now
from market.compliance.gather import plan_charges_fee
from market.compliance.models import ComplianceDecisionRow
from market.compliance.service import gate_listing, resolve_review
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid_from_validation
from market.registry.models import DataResource
from market.rights.models import RightGrantRow
from market.rights.validity import grant_index
from pricing import Money, lowest_price, parse_plan, validate_plan_against_entry

GRADE_ORDER = {"general": 0, "important": 1, "core": 2}
EDITABLE = ("draft", "rejected", "suspended")
TRANSITIONS = {
    "list": ("needs_review", "suspended"),
    "reject": ("needs_review", "submitted"),
    "suspend": ("listed",),
    "delist": ("listed", "suspended"),
}
TARGET = {"list": "listed", "reject": "rejected", "suspend": "suspended", "delist": "delisted"}


class InvalidListingTransition(Conflict):
    code = "invalid-listing-transition"


async def resource_ids_of(session: AsyncSession, product_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(product_resources.c.resource_id).where(product_resources.c.product_id == product_id)
    return list((await session.execute(stmt)).scalars())


async def _usable_resources(
    session: AsyncSession, seller_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[DataResource]:
    """Registered resources the seller holds, or may process, under a valid chain (Art. 22)."""
    resources = []
    for i, rid in enumerate(ids):
        field = f"body.resource_ids.{i}"
        resource = await session.get(DataResource, rid)
        if resource is None:
            raise NotFound("resource not found", fields=[(field, "no such resource")])
        if resource.status != "registered":
            raise InvalidInput(
                "products are built on registered resources (Art. 62)",
                fields=[(field, f"resource is {resource.status}, not registered")],
            )
        index = await grant_index(session, rid)
        mine = [
            g for g in index.rows.values() if g.holder_id == seller_id and g.kind in ("holding", "processing")
        ]
        if not any(validate_chain(str(g.id), index, now()).valid for g in mine):
            raise Forbidden(
                "you hold no valid holding or processing right over this resource (Art. 22)",
                fields=[(field, "no valid right held")],
            )
        resources.append(resource)
    return resources


async def _checked_plan(
    session: AsyncSession,
    raw: dict[str, Any],
    resources: list[DataResource],
    catalogue_class: str | None,
    plan_version: int,
) -> tuple[dict[str, Any], int]:
    try:
        plan = parse_plan({**raw, "plan_version": plan_version})
    except ValidationError as exc:
        raise invalid_from_validation(exc, "body.price_plan", "the price plan is invalid", raw) from exc
    stored = plan.model_dump(mode="json")
    if any(r.category == "public" for r in resources) and plan_charges_fee(stored):
        if not catalogue_class:
            raise InvalidInput(
                "paid public data is priced under government guidance (Art. 65): "
                "name its price_catalogue_class",
                fields=[("body.price_catalogue_class", "required for paid public data")],
            )
        entry = await guided_entry_at(session, catalogue_class, now())
        if entry is None:
            raise InvalidInput(
                "no guided price entry is in force for this class (Art. 65)",
                fields=[("body.price_catalogue_class", "no entry in force")],
            )
        violations = validate_plan_against_entry(plan, entry)
        if violations:
            raise InvalidInput(
                f"the plan leaves guided entry {entry.entry_key} v{entry.version} (Art. 65): "
                + "; ".join(v.reason for v in violations[:3]),
                fields=[("body.price_plan", f"{v.reason} (limit {v.limit})") for v in violations[:3]],
                extra={"entry_key": entry.entry_key, "entry_version": entry.version},
            )
    return stored, Money(lowest_price(plan), plan.currency).minor_units


def _search_text(product: Product) -> str:
    return " ".join([product.title, product.description, *product.scenarios])


async def create_product(session: AsyncSession, principal: Principal, data: ProductCreate) -> Product:
    if principal.participant_id is None:
        raise Forbidden("products belong to a participant")
    resources = await _usable_resources(session, principal.participant_id, data.resource_ids)
    plan, price_from = await _checked_plan(session, data.price_plan, resources, data.price_catalogue_class, 1)
    if not set(data.licence_template.scenarios) <= set(data.scenarios):
        raise InvalidInput(
            "the licence template offers a scenario the product does not declare",
            fields=[("body.licence_template.scenarios", "not among the product's scenarios")],
        )
    categories = {r.category for r in resources}
    product = Product(
        seller_id=principal.participant_id,
        title=data.title,
        description=data.description,
        delivery_mode=data.delivery_mode,
        scenarios=data.scenarios,
        price_plan=plan,
        plan_version=1,
        currency=plan["currency"],
        price_from_minor=price_from,
        licence_template=data.licence_template.model_dump(mode="json"),
        exclusivity=data.exclusivity,
        stock_limit=data.stock_limit,
        price_catalogue_class=data.price_catalogue_class,
        category=categories.pop() if len(categories) == 1 else "mixed",
        grade=max((r.grade for r in resources), key=GRADE_ORDER.__getitem__),
        listing_status="draft",
        created_at=now(),
        updated_at=now(),
    )
    product.search_text = _search_text(product)
    session.add(product)
    await session.flush()
    for rid in data.resource_ids:
        await session.execute(product_resources.insert().values(product_id=product.id, resource_id=rid))
    await record(
        session,
        actor=principal.actor,
        action="product.created",
        subject_type="product",
        subject_id=product.id,
        payload={
            "title": product.title,
            "resource_ids": [str(r) for r in data.resource_ids],
            "plan": plan,
            "delivery_mode": product.delivery_mode,
            "scenarios": product.scenarios,
            "exclusivity": product.exclusivity,
        },
    )
    return product


async def get_product(session: AsyncSession, principal: Principal | None, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("product not found")
    if product.listing_status != "listed":
        if principal is None:
            raise NotFound("product not found")
        ensure_visible(principal, product.seller_id, "product")
    return product


async def _own_product(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id, with_for_update=True)
    if product is None or product.seller_id != principal.participant_id:
        raise NotFound("product not found")
    return product


async def update_product(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, data: ProductUpdate
) -> Product:
    product = await _own_product(session, principal, product_id)
    if product.listing_status not in EDITABLE:
        raise Conflict(
            f"a {product.listing_status} product cannot be edited; suspend or delist it first",
            code="product-not-editable",
        )
    changes = data.model_dump(exclude_unset=True, mode="json")
    if "price_plan" in changes:
        resources = [
            r
            for r in [
                await session.get(DataResource, rid) for rid in await resource_ids_of(session, product.id)
            ]
            if r
        ]
        plan, price_from = await _checked_plan(
            session,
            changes["price_plan"],
            resources,
            product.price_catalogue_class,
            product.plan_version + 1,
        )
        product.price_plan, product.price_from_minor = plan, price_from
        product.plan_version += 1
        product.currency = plan["currency"]
    for field in ("title", "description", "scenarios", "licence_template", "stock_limit"):
        if field in changes:
            setattr(product, field, changes[field])
    product.search_text = _search_text(product)
    product.updated_at = now()
    await record(
        session,
        actor=principal.actor,
        action="product.updated",
        subject_type="product",
        subject_id=product.id,
        payload={"changed": sorted(changes), "plan_version": product.plan_version},
    )
    return product


async def submit_listing(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID
) -> tuple[Product, ComplianceDecisionRow]:
    product = await _own_product(session, principal, product_id)
    if product.listing_status not in ("draft", "rejected"):
        raise InvalidListingTransition(f"a {product.listing_status} product cannot be submitted")
    decision = await gate_listing(session, product=product, actor=principal.actor)
    product.listing_status = {
        "allow": "listed",
        "deny": "rejected",
        "needs_review": "needs_review",
    }[decision.outcome]
    product.listing_reason = (
        "; ".join(
            f"{f['rule_id']}: {f['message_en']}"
            for f in decision.findings
            if f["outcome"] in ("deny", "review")
        )
        or None
    )
    if product.listing_status == "listed":
        product.listed_at = now()
    await record(
        session,
        actor=principal.actor,
        action=f"listing.{product.listing_status}",
        subject_type="product",
        subject_id=product.id,
        payload={"decision_id": str(decision.id), "outcome": decision.outcome},
    )
    return product, decision


async def decide_listing(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, action: str, reason: str
) -> Product:
    product = await session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound("product not found")
    if product.listing_status not in TRANSITIONS[action]:
        raise InvalidListingTransition(
            f"cannot {action} a {product.listing_status} product "
            f"(allowed from: {', '.join(TRANSITIONS[action])})"
        )
    if product.listing_status == "needs_review":
        await resolve_review(
            session,
            subject_type="product",
            subject_id=str(product.id),
            approve=action == "list",
            reason=reason,
            actor=principal.actor,
        )
    product.listing_status = TARGET[action]
    product.listing_reason = reason
    if action == "list":
        product.listed_at = now()
    await record(
        session,
        actor=principal.actor,
        action=f"listing.{TARGET[action]}",
        subject_type="product",
        subject_id=product.id,
        payload={"reason": reason},
    )
    return product


__all__ = ["RightGrantRow"]
