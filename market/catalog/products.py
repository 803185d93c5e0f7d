"""Products on registered resources and their listing lifecycle (挂牌, see `states`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm.attributes import set_committed_value

from contracts import LicenceTemplate, validate_chain
from market.audit.log import record
from market.audit.queries import register_party_check
from market.auth.principal import Principal, ensure_visible
from market.catalog import repository
from market.catalog.models import Product
from market.catalog.price_catalogue import guided_entry_at
from market.catalog.schemas import ProductCreate, ProductUpdate
from market.catalog.states import (
    DECISION_SOURCES,
    DECISION_TARGET,
    EDITABLE,
    LISTINGS,
    SUBMISSION_OUTCOME,
    SUBMITTABLE,
    ListingStatus,
)
from market.common.clock import now
from market.common.states import InvalidTransition
from market.common.validated import ValidatedOnce
from market.compliance.decision import Decision
from market.compliance.gather import ProductSubject, plan_charges_fee
from market.compliance.models import ComplianceDecisionRow
from market.compliance.repository import ResourceLock, Subquery
from market.compliance.schemas import CheckRequest
from market.compliance.service import dry_run, gate_listing, resolve_review
from market.db import together
from market.db.direct import by_id
from market.db.pending import Check, check_with_writes
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid_from_validation
from market.notifications.outbox import notify
from market.participants import verification
from market.registry import consents, lifecycle
from market.registry import resources as registry_resources
from market.registry.models import DataResource
from market.rights import service as rights
from market.rights import tree_reads
from market.rights.models import RightGrantRow
from market.rights.validity import grant_index
from pricing import Money, lowest_price, parse_plan, validate_plan_against_entry

BEIJING = ZoneInfo("Asia/Shanghai")

GRADE_ORDER = {"general": 0, "important": 1, "core": 2}
InvalidListingTransition = InvalidTransition  # the 409 a listing change out of turn answers
# A suspended product stays visible, with its reason, to buyers who look for it.
PUBLIC_STATUSES = frozenset({ListingStatus.LISTED, ListingStatus.SUSPENDED})

# A listing's plan and licence template as stored, validated once per distinct value: every
# quote prices with the plan and every delivery derives a licence from the template (issue 21).
stored_plan = ValidatedOnce(parse_plan)
stored_template = ValidatedOnce(LicenceTemplate.model_validate)


async def resource_ids_of(session: AsyncSession, product_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.resource_ids_of(session, product_id)


async def resource_ids_of_many(
    session: AsyncSession, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await repository.resource_ids_of_many(session, product_ids)


def compliance_subject(product: Product, *, lock_resources: ResourceLock | None = None) -> ProductSubject:
    """The product as the compliance rules see it; its resources are read by the rules' own
    query (a subquery, not a round trip of ours), their rows locked as `lock_resources` says
    (an order's gate, a payment's)."""
    return ProductSubject(
        product_id=product.id,
        seller_id=product.seller_id,
        resource_ids=Subquery(repository.RESOURCE_IDS, {"resource_ids_of": product.id}),
        scenarios=tuple(product.scenarios or ()),
        price_plan=product.price_plan,
        licence_template=product.licence_template or {},
        lock_resources=lock_resources,
    )


async def _sells(session: AsyncSession, participant_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    product = await repository.get(session, product_id)
    return product is not None and product.seller_id == participant_id


# Rights and the audit log sit below the catalogue: tell them how to check that a product is
# built on a resource, and who is a party to a product's audit entries (its seller).
rights.register_product_check(repository.is_built_on)
register_party_check("product", _sells)


async def _usable_resources(
    session: AsyncSession, seller_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[DataResource]:
    """Registered resources the seller holds, or may process, under a valid chain (Art. 22)."""
    resources = []
    for i, rid in enumerate(ids):
        field = f"body.resource_ids.{i}"
        resource = await registry_resources.find(session, rid)
        if resource is None:
            raise NotFound("resource not found", fields=[(field, "no such resource")])
        if resource.status != "registered":
            why = await _not_registered_yet(session, resource)
            raise InvalidInput(why, fields=[(field, why)])
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


def _beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") + " Beijing time"


async def _not_registered_yet(session: AsyncSession, resource: DataResource) -> str:
    """Why a product cannot rest on `resource` yet, and what comes next (Art. 62)."""
    pending = await lifecycle.in_progress(session, resource.id)
    if pending is not None and pending.status == "publicity" and pending.publicity_ends_at is not None:
        return (
            f"registration {pending.id} is in publicity until {_beijing(pending.publicity_ends_at)} "
            "and registers then; build the product on the resource after that (Art. 62)"
        )
    if pending is not None:
        return (
            f"registration {pending.id} awaits an operator's review; once approved it is in "
            "publicity for ten working days and then registers (Art. 62)"
        )
    if resource.status == "draft":
        return (
            "apply for the resource's registration first: POST /v1/registrations with "
            f'{{"resource_id": "{resource.id}", "rights_evidence": "..."}} (Art. 62)'
        )
    return f"products are built on registered resources; this one is {resource.status} (Art. 62)"


def _bound_class(resources: list[DataResource], requested: str | None) -> str | None:
    """The guided class a product on these resources is priced under: the one an operator or
    the price authority bound to its public resources, never one the seller picks (issue 20;
    Art. 65). A seller naming another class is refused (403); naming the bound one is allowed."""
    public = [(i, r) for i, r in enumerate(resources) if r.category == "public"]
    if not public:
        return requested
    bound = {r.price_catalogue_class for _, r in public}
    if requested is not None and bound != {requested}:
        raise Forbidden(
            "the guided price class of public data is bound to the resource by the operator or the "
            "price authority, not chosen by the seller (Art. 65)",
            fields=[("body.price_catalogue_class", f"the resources are bound to {sorted(map(str, bound))}")],
        )
    if len(bound) > 1:
        raise InvalidInput(
            "the public resources of one product are bound to different price classes",
            fields=[("body.resource_ids", f"classes {sorted(map(str, bound))}")],
        )
    return bound.pop()


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
    public = [i for i, r in enumerate(resources) if r.category == "public"]
    if public and plan_charges_fee(stored):
        if not catalogue_class:
            raise InvalidInput(
                "paid public data is priced under government guidance (Art. 65), and no price class "
                "is bound to this resource: the operator or the price authority binds it",
                fields=[(f"body.resource_ids.{public[0]}", "no guided price class bound")],
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
    price_class = _bound_class(resources, data.price_catalogue_class)
    plan, price_from = await _checked_plan(session, data.price_plan, resources, price_class, 1)
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
        price_catalogue_class=price_class,
        themes=list(data.themes),
        media_type=data.media_type,
        category=categories.pop() if len(categories) == 1 else "mixed",
        grade=max((r.grade for r in resources), key=GRADE_ORDER.__getitem__),
        listing_status="draft",
        created_at=now(),
        updated_at=now(),
    )
    product.search_text = _search_text(product)
    session.add(product)
    await session.flush()
    await repository.link_resources(session, product.id, data.resource_ids)
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
    return visible_product(principal, await repository.get(session, product_id))


def visible_product(principal: Principal | None, product: Product | None) -> Product:
    """The product as the caller may see it (read by the caller's own query): anyone sees a
    public one, only its seller and operators the others."""
    if product is None:
        raise NotFound("product not found")
    if product.listing_status not in PUBLIC_STATUSES:
        if principal is None:
            raise NotFound("product not found")
        ensure_visible(principal, product.seller_id, "product")
    return product


async def _own_product(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Product:
    product = await repository.get(session, product_id, lock=True)
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
                await registry_resources.find(session, rid)
                for rid in await resource_ids_of(session, product.id)
            ]
            if r
        ]
        plan, price_from = await _checked_plan(
            session,
            changes["price_plan"],
            resources,
            _bound_class(resources, None) if resources else product.price_catalogue_class,
            product.plan_version + 1,
        )
        product.price_plan, product.price_from_minor = plan, price_from
        product.plan_version += 1
        product.currency = plan["currency"]
    for field in (
        "title",
        "description",
        "scenarios",
        "licence_template",
        "stock_limit",
        "themes",
        "media_type",
    ):
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
    if product.listing_status not in SUBMITTABLE:
        raise InvalidListingTransition(
            f"a {product.listing_status} product cannot be submitted", code=LISTINGS.code
        )
    await verification.ensure_verified(session, product.seller_id, "list products")
    decision = await gate_listing(session, product=compliance_subject(product), actor=principal.actor)
    target = SUBMISSION_OUTCOME[decision.outcome]
    LISTINGS.check(product.listing_status, target)
    product.listing_status = target
    product.listing_reason = (
        "; ".join(
            _next_step(f["rule_id"], product) or f"{f['message_en']} ({f['rule_id']})"
            for f in decision.findings
            if f["outcome"] in ("deny", "review")
        )
        or None
    )
    if product.listing_status == ListingStatus.LISTED:
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


def _next_step(rule_id: str, product: Product) -> str | None:
    """A refusal the seller fixes alone says how (the rule's id last, for the record)."""
    if rule_id == "LIST-001":
        return (
            "grant yourself an operating right over the resource: POST /v1/grants with "
            '{"parent_grant_id": "<your holding grant, from GET /v1/resources/{resource_id}/rights>", '
            f'"kind": "operating", "holder_id": "{product.seller_id}", "subject_kind": "product", '
            f'"subject_id": "{product.id}", "purposes": [...]}}, then submit the listing again '
            "(Art. 22; LIST-001)"
        )
    return None


async def decide_listing(
    session: AsyncSession, principal: Principal, product_id: uuid.UUID, action: str, reason: str
) -> Product:
    product = await repository.get(session, product_id, lock=True)
    if product is None:
        raise NotFound("product not found")
    target = DECISION_TARGET[action]
    if product.listing_status not in DECISION_SOURCES[action]:
        raise InvalidListingTransition(
            f"cannot {action} a {product.listing_status} product "
            f"(allowed from: {', '.join(sorted(DECISION_SOURCES[action]))})",
            code=LISTINGS.code,
        )
    LISTINGS.check(product.listing_status, target)
    if target == ListingStatus.LISTED:
        await _no_personal_data_hold(session, product)
    if product.listing_status == ListingStatus.NEEDS_REVIEW:
        await resolve_review(
            session,
            subject_type="product",
            subject_id=str(product.id),
            approve=action == "list",
            reason=reason,
            actor=principal.actor,
        )
    product.listing_status = target
    product.listing_reason = reason
    if action == "list":
        product.listed_at = now()
    await record(
        session,
        actor=principal.actor,
        action=f"listing.{target}",
        subject_type="product",
        subject_id=product.id,
        payload={"reason": reason},
    )
    await notify(
        session,
        f"listing.{target}",
        to=[product.seller_id],
        subject=("product", product.id),
        data={"reason": reason, "listing_status": target},
    )
    return product


async def _no_personal_data_hold(session: AsyncSession, product: Product) -> None:
    """An operator lists nothing built on a resource a person's data must leave first (the
    submission path meets the same condition as rule DATA-012)."""
    held = await consents.resources_on_hold(session, repository.resource_ids_query(product.id))
    if held:
        raise Conflict(
            "a person's data must first be removed from a resource of this product (PIPL Art. 15, 47): "
            "release the resource's personal-data hold once the seller has removed it",
            code="personal-data-hold",
            extra={"resource_ids": sorted(str(r) for r in held)},
        )


async def suspend_built_on(
    session: AsyncSession, resource_ids: list[uuid.UUID], *, reason: str, actor: str, cause: dict[str, str]
) -> list[Product]:
    """Suspend every listed product built on these resources, saying why to buyers (the listing
    reason is shown with the product): new sales stop, licences already sold are not touched."""
    suspended = await repository.built_on(session, resource_ids, status=ListingStatus.LISTED, lock=True)
    for product in suspended:
        LISTINGS.check(product.listing_status, ListingStatus.SUSPENDED)
        product.listing_status = ListingStatus.SUSPENDED
        product.listing_reason = reason
        product.updated_at = now()
        await record(
            session,
            actor=actor,
            action="listing.suspended",
            subject_type="product",
            subject_id=product.id,
            payload={"reason": reason, **cause},
        )
    return suspended


async def built_on(session: AsyncSession, resource_ids: list[uuid.UUID]) -> list[Product]:
    """Every product built on any of these resources, whatever its listing status."""
    return await repository.built_on(session, resource_ids)


async def find(session: AsyncSession, product_id: uuid.UUID) -> Product | None:
    """A product whatever its status or seller (for rules and other features, not for display)."""
    return await repository.get(session, product_id)


async def lock(session: AsyncSession, product_id: uuid.UUID) -> Product | None:
    return await repository.get(session, product_id, lock=True)


async def page(session: AsyncSession, principal: Principal, cursor: str | None, limit: int) -> list[Product]:
    return await repository.page(session, principal, cursor, limit)


async def compliance_dry_run(session: AsyncSession, principal: Principal, data: CheckRequest) -> Decision:
    """Would this listing or trade be allowed now, and why: the real gate's rules on today's facts,
    nothing stored. A trade is checked for the caller (operators may name another buyer)."""
    product = await find(session, data.product_id)
    if product is None:
        raise NotFound("product not found", fields=[("body.product_id", "no such product")])
    if data.kind == "listing":
        ensure_visible(principal, product.seller_id, "product")
        buyer_id = None
    else:
        if product.listing_status != "listed":
            ensure_visible(principal, product.seller_id, "product")
        if data.buyer_id is not None and data.buyer_id != principal.participant_id:
            if not principal.has("operator"):
                raise Forbidden(
                    "only operators check trades on behalf of another buyer",
                    fields=[("body.buyer_id", "not your participant")],
                )
        buyer_id = data.buyer_id or principal.participant_id
        if buyer_id is None:
            raise InvalidInput(
                "say which buyer the trade is for", fields=[("body.buyer_id", "required for staff")]
            )
    decision = await dry_run(
        session,
        kind=data.kind,
        product=compliance_subject(product),
        buyer_id=buyer_id,
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
    )
    return decision


def claim_lock(product: Product) -> ResourceLock:
    """How an order of the product locks its resources' rows while it claims them."""
    return "exclusive_claim" if product.exclusivity == "exclusive" else "shared_claim"


_PRODUCTS = cast(Table, Product.__table__)


def reserve_unit(session: AsyncSession, product: Product, refuse: Callable[[Product], None]) -> None:
    """Count a unit of the product as sold to a pending order, if it is still listed and in
    stock: `refuse(product)` raises, with the product as it is now, when it is not.

    On PostgreSQL the count is one conditional `UPDATE ... SET sold_count = sold_count + 1` in
    the statement that writes the order (market.db.pending.check_with_writes): a concurrent
    delisting or the last unit sold meanwhile is seen by the UPDATE itself (it waits for the
    other writer and judges the row as committed), so an order does not hold the product's row
    from its first read, and orders of one product queue only from their writes to their
    commits. SQLite runs one writer at a time: the counter the order read is current."""
    if session.get_bind().dialect.name != "postgresql":
        refuse(product)
        product.sold_count += 1
        return

    def counted(sync: SyncSession, produced: together.Produced) -> None:
        if produced.values is not None:
            set_committed_value(product, "sold_count", produced.values[0])
            return
        now_row = sync.execute(
            select(Product.listing_status, Product.stock_limit, Product.sold_count).where(
                Product.id == product.id
            )
        ).one()
        for name, value in now_row._mapping.items():
            set_committed_value(product, name, value)
        refuse(product)
        raise Conflict(
            "the product changed while it was ordered; ask for a new quote", code="product-changed"
        )

    def part(batch: together.Batch) -> together.Part:
        c = _PRODUCTS.c
        # Only placeholders are formatted in; the values are parameters.
        sql = (
            "UPDATE products SET sold_count = sold_count + 1 "  # noqa: S608
            f"WHERE id = {batch.params.bind(product.id, c.id)} AND listing_status = "
            f"{batch.params.bind(ListingStatus.LISTED, c.listing_status)} "
            "AND (stock_limit IS NULL OR sold_count < stock_limit) RETURNING sold_count"
        )
        return together.Part(sql, counted=True, returning=("sold_count",))

    check_with_writes(session, Check(part, counted))


async def release_unit(session: AsyncSession, product_id: uuid.UUID) -> None:
    """Give back the unit an order that ended unpaid had reserved."""
    product = await repository.get(session, product_id, lock=True)
    if product is not None:
        product.sold_count -= 1


async def lock_resources(session: AsyncSession, product: Product) -> list[uuid.UUID]:
    """Lock the rows of the resources the product is built on (and return their ids), as
    `claim_lock` says: an exclusive order over the same data waits for every other order, and
    they for it, so a claim that could clash is made by one of them at a time. An order's
    trade gate has locked them already (and read them)."""
    if (read := tree_reads.recall(session, product.id, locked=True)) is not None:
        return read[0]
    return await repository.lock_resources_of(session, product.id, claim_lock(product))


async def with_rights_trees(
    session: AsyncSession, product_id: uuid.UUID
) -> tuple[Product, list[uuid.UUID], list[RightGrantRow]]:
    """The product, its resource ids and grants of their rights trees, among them the product's
    operating rights and every grant above them: every grant, in one query, or what this
    transaction's trade gate read of them (compliance.repository.RulesRead.grants)."""
    if (read := tree_reads.recall(session, product_id)) is not None and (
        product := await by_id(session, Product, product_id)
    ) is not None:
        return product, read[0], read[1]
    return await repository.with_rights_trees(session, product_id)


async def bind_price_class(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID, data_class: str, reason: str
) -> DataResource:
    """An operator or the price authority binds a public resource to a guided class with an
    entry in force; the products built on it follow (their quotes use that class's entry).
    Audited on the resource and on each product whose class changes (Art. 65, issue 20)."""
    if await guided_entry_at(session, data_class, now()) is None:
        raise InvalidInput(
            "no guided price entry is in force for this class (Art. 65)",
            fields=[("body.data_class", "no entry in force")],
        )
    resource = await registry_resources.bind_price_class(
        session, resource_id, data_class, actor=principal.actor, reason=reason
    )
    for product in await repository.built_on(session, [resource_id], lock=True):
        if product.price_catalogue_class == data_class:
            continue
        before, product.price_catalogue_class = product.price_catalogue_class, data_class
        product.updated_at = now()
        await record(
            session,
            actor=principal.actor,
            action="product.price_class_bound",
            subject_type="product",
            subject_id=product.id,
            payload={"data_class": data_class, "previous": before, "resource_id": str(resource_id)},
        )
    return resource
