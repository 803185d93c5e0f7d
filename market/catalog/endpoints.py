"""HTTP: guided price catalogue, products, listings, public catalogue, quotes, fairness."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from market.auth.principal import (
    Authenticated,
    MaybeAuthenticated,
    Operator,
    PriceAuthority,
    Principal,
    Seller,
    require_roles,
)
from market.catalog import dcat, price_catalogue, products, search
from market.catalog.models import PriceCatalogueEntryRow, Product
from market.catalog.schemas import (
    ListingDecision,
    ListingOut,
    PriceClassBinding,
    PriceEntryCreate,
    PriceEntryOut,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    Withdrawal,
)
from market.common.linked_data import (
    LINKED_DATA_RESPONSES,
    LinkedDataFormat,
    LinkedDataWanted,
    NotAcceptable,
    linked_data_response,
)
from market.common.pagination import Cursor, Limit, Page, page_of
from market.compliance.schemas import CheckRequest, DecisionOut, buyer_view
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.ratelimits import limit_per_ip
from market.registry.schemas import ResourceOut
from market.runtime import AppSettings, PublicIris

router = APIRouter(prefix="/v1", tags=["catalogue"])
MAX_MINOR = 10**15  # a trillion yuan in fen: far above any price, far below a 64-bit column
Overseer = Annotated[Principal, Depends(require_roles("operator", "price_authority"))]


def entry_out(row: PriceCatalogueEntryRow) -> PriceEntryOut:
    return PriceEntryOut.model_validate(row, from_attributes=True)


def _product_out(product: Product, resource_ids: list[uuid.UUID]) -> ProductOut:
    return ProductOut.model_validate(
        {
            **{c: getattr(product, c) for c in ProductOut.model_fields if hasattr(product, c)},
            "resource_ids": resource_ids,
        }
    )


async def product_out(session: Any, product: Product) -> ProductOut:
    return _product_out(product, await products.resource_ids_of(session, product.id))


async def products_out(session: Any, rows: list[Product]) -> list[ProductOut]:
    """A page of products with their resources read in one query for the whole page."""
    resources = await products.resource_ids_of_many(session, [p.id for p in rows])
    return [_product_out(p, resources.get(p.id, [])) for p in rows]


@router.post(
    "/price-catalogue",
    status_code=status.HTTP_201_CREATED,
    response_model=PriceEntryOut,
    summary="Publish a government-guided price entry (price authority)",
    responses=problem_responses(Conflict, Forbidden),
    tags=["price catalogue"],
)
async def publish_entry(
    data: PriceEntryCreate,
    session: Session,
    principal: PriceAuthority,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "price_entries.create", data)
    if replayed := await call.replay():
        return replayed
    return await call.remember(entry_out(await price_catalogue.publish(session, principal, data)))


@router.post(
    "/price-catalogue/{entry_key}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=PriceEntryOut,
    summary="Supersede an entry with a new version",
    responses=problem_responses(NotFound, Forbidden),
    tags=["price catalogue"],
)
async def supersede_entry(
    entry_key: str,
    data: PriceEntryCreate,
    session: Session,
    principal: PriceAuthority,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(
        session, principal.actor, idempotency_key, "price_entries.versions.create", data, entry_key=entry_key
    )
    if replayed := await call.replay():
        return replayed
    return await call.remember(
        entry_out(await price_catalogue.supersede(session, principal, entry_key, data))
    )


@router.post(
    "/price-catalogue/{entry_key}/withdrawal",
    response_model=list[PriceEntryOut],
    summary="Withdraw an entry",
    responses=problem_responses(NotFound, Conflict, Forbidden),
    tags=["price catalogue"],
)
async def withdraw_entry(
    entry_key: str, data: Withdrawal, session: Session, principal: PriceAuthority
) -> list[PriceEntryOut]:
    return [entry_out(r) for r in await price_catalogue.withdraw(session, principal, entry_key, data)]


@router.put(
    "/resources/{resource_id}/price-class",
    response_model=ResourceOut,
    summary="Bind a public resource to its guided price class (operators, price authority)",
    description="The class a public resource is priced under is set by the operator or the price "
    "authority, never by the seller; products built on it use that class's entry (Art. 65). Audited.",
    responses=problem_responses(NotFound, Forbidden),
    tags=["price catalogue"],
)
async def bind_price_class(
    resource_id: uuid.UUID, data: PriceClassBinding, session: Session, principal: Overseer
) -> ResourceOut:
    resource = await products.bind_price_class(session, principal, resource_id, data.data_class, data.reason)
    return ResourceOut.model_validate(resource, from_attributes=True)


@router.get(
    "/price-catalogue",
    response_model=list[PriceEntryOut],
    tags=["price catalogue"],
    summary="Guided price entries in force (or every version with history=true); public",
)
async def list_entries(
    session: Session,
    history: bool = False,
    data_class: Annotated[str | None, Query(max_length=80)] = None,
) -> list[PriceEntryOut]:
    rows = await price_catalogue.entries(session, in_force_only=not history, data_class=data_class)
    return [entry_out(r) for r in rows]


@router.get(
    "/price-catalogue/{entry_key}",
    response_model=list[PriceEntryOut],
    tags=["price catalogue"],
    summary="One entry with every version; public",
    responses=problem_responses(NotFound),
)
async def read_entry(entry_key: str, session: Session) -> list[PriceEntryOut]:
    rows = await price_catalogue.versions(session, entry_key)
    if not rows:
        raise NotFound("price entry not found")
    return [entry_out(r) for r in rows]


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    summary="Create a product on registered resources (validated price plan)",
    responses=problem_responses(NotFound, Forbidden),
)
async def create_product(
    data: ProductCreate, session: Session, principal: Seller, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "products.create", data)
    if replayed := await call.replay():
        return replayed
    product = await products.create_product(session, principal, data)
    return await call.remember(await product_out(session, product))


@router.get("/products", response_model=Page[ProductOut], summary="Own products (operators: all)")
async def list_products(
    session: Session, principal: Authenticated, limit: Limit = 50, cursor: Cursor = None
) -> Page[ProductOut]:
    page = page_of(await products.page(session, principal, cursor, limit), limit, lambda p: p)
    return Page(items=await products_out(session, page.items), next_cursor=page.next_cursor)


@router.get(
    "/products/{product_id}",
    response_model=ProductOut,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
    summary="A product (listed ones are public; others: seller and operators); as linked data, "
    "its DCAT-AP dataset",
)
async def read_product(
    product_id: uuid.UUID,
    session: Session,
    principal: MaybeAuthenticated,
    settings: AppSettings,
    iris: PublicIris,
    ld: LinkedDataWanted,
) -> Any:
    product = await products.get_product(session, principal, product_id)
    if ld:
        [item] = await dcat.gather(session, [product])
        return await linked_data_response(dcat.dataset_document(item, iris, settings.contact_email), ld)
    return await product_out(session, product)


@router.get(
    "/products/{product_id}/offer",
    response_class=Response,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound, NotAcceptable)},
    summary="The product's ODRL 2.2 Offer: the terms every buyer's licence is derived from "
    "(JSON-LD or Turtle; listed products are public)",
)
async def read_offer(
    product_id: uuid.UUID,
    session: Session,
    principal: MaybeAuthenticated,
    iris: PublicIris,
    ld: LinkedDataFormat,
) -> Response:
    product = await products.get_product(session, principal, product_id)
    return await linked_data_response(dcat.offer_document(product, iris), ld)


@router.patch(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="Edit a draft, rejected or suspended product (a new plan version is revalidated)",
    responses=problem_responses(NotFound, Conflict),
)
async def update_product(
    product_id: uuid.UUID, data: ProductUpdate, session: Session, principal: Seller
) -> ProductOut:
    return await product_out(session, await products.update_product(session, principal, product_id, data))


@router.post(
    "/products/{product_id}/listing",
    response_model=ListingOut,
    summary="Submit for listing: the listing rules decide (listed, needs_review or rejected)",
    responses=problem_responses(NotFound, Conflict),
)
async def submit_listing(product_id: uuid.UUID, session: Session, principal: Seller) -> ListingOut:
    product, decision = await products.submit_listing(session, principal, product_id)
    return ListingOut(
        product=await product_out(session, product),
        compliance_outcome=decision.outcome,
        findings=decision.findings,
    )


@router.post(
    "/listings/{product_id}/decision",
    response_model=ListingOut,
    summary="Operator: list, reject, suspend or delist, with a reason",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def decide_listing(
    product_id: uuid.UUID, data: ListingDecision, session: Session, principal: Operator
) -> ListingOut:
    product = await products.decide_listing(session, principal, product_id, data.action, data.reason)
    return ListingOut(product=await product_out(session, product))


@router.get(
    "/catalog",
    response_model=Page[ProductOut],
    dependencies=[limit_per_ip("public", "rate_limit_public_ip")],
    responses=LINKED_DATA_RESPONSES,
    summary="Search listed products; public. As linked data: the page as a DCAT-AP catalogue",
)
async def catalogue(
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(pattern="^(public|enterprise|personal|mixed)$")] = None,
    grade: Annotated[str | None, Query(pattern="^(general|important|core)$")] = None,
    delivery_mode: Annotated[str | None, Query(pattern="^(file|api|sandbox)$")] = None,
    min_price: Annotated[int | None, Query(ge=0, le=MAX_MINOR, description="fen")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=MAX_MINOR, description="fen")] = None,
    seller_id: uuid.UUID | None = None,
    *,
    settings: AppSettings,
    iris: PublicIris,
    ld: LinkedDataWanted,
) -> Any:
    rows = await search.search(
        session,
        cursor=cursor,
        limit=limit,
        q=q,
        category=category,
        grade=grade,
        delivery_mode=delivery_mode,
        min_price=min_price,
        max_price=max_price,
        seller_id=seller_id,
    )
    page = page_of(rows, limit, lambda p: p)
    if ld:  # the catalogue's IRI: these listed products as a DCAT-AP catalogue
        items = await dcat.gather(session, page.items)
        return await linked_data_response(dcat.catalogue_document(items, iris, settings.contact_email), ld)
    return Page(items=await products_out(session, page.items), next_cursor=page.next_cursor)


@router.get(
    "/catalog.jsonld",
    dependencies=[limit_per_ip("public", "rate_limit_public_ip")],
    summary="The catalogue as DCAT-AP 3 (JSON-LD, or Turtle when asked); public",
    response_class=Response,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotAcceptable)},
)
async def catalogue_dcat(
    settings: AppSettings,
    session: Session,
    iris: PublicIris,
    media_type: LinkedDataFormat,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    rows = await search.search(
        session,
        cursor=None,
        limit=limit,
        q=None,
        category=None,
        grade=None,
        delivery_mode=None,
        min_price=None,
        max_price=None,
        seller_id=None,
    )
    items = await dcat.gather(session, rows[:limit])
    return await linked_data_response(
        dcat.catalogue_document(items, iris, settings.contact_email), media_type
    )


@router.post(
    "/compliance/checks",
    tags=["compliance"],
    response_model=DecisionOut,
    summary="Dry run: would this listing or trade be allowed now, and why (nothing is stored)",
    responses=problem_responses(NotFound, Forbidden),
)
async def check(data: CheckRequest, session: Session, principal: Authenticated) -> DecisionOut:
    out = DecisionOut.of(await products.compliance_dry_run(session, principal, data))
    seller = ((out.facts.get("listing") or {}).get("seller") or {}).get("participant_id")
    if data.kind == "trade" and not principal.can_see_all() and str(principal.participant_id) != seller:
        return buyer_view(out)  # only what this buyer may see of another's product
    return out
