"""Public disclosure of paid public data fees (发改价格〔2025〕65号): operators display their fees
publicly, and disclose each year, by the end of March, the previous year's operator details,
authorised resources, product list and fees; the price authority's ceilings are published.
Read-only: built from the catalogue, the mandates and the revenue the exchange tracks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.catalog import price_catalogue
from market.catalog.schemas import PriceEntryOut
from market.common.clock import now
from market.disclosures import repository
from market.disclosures.schemas import (
    AnnualDisclosure,
    FeeOut,
    OperatorDisclosed,
    ProductDisclosed,
    ResourceDisclosed,
)
from market.revenue_caps import service as revenue_caps
from pricing import BEIJING

LEGAL_BASIS = "发改价格〔2025〕65号"


async def fees(session: AsyncSession) -> list[FeeOut]:
    at = now()
    out = []
    for product, operator in await repository.listed_public_products(session):
        data_class = product.price_catalogue_class or ""
        entry = await price_catalogue.guided_entry_at(session, data_class, at)
        plan = product.price_plan
        out.append(
            FeeOut(
                product_id=product.id,
                title=product.title,
                operator_id=operator.id,
                operator_name=operator.name,
                data_class=data_class,
                unit=plan.get("unit") or (entry.unit.value if entry else None),
                currency=product.currency,
                price_plan=plan,
                price_from_minor=product.price_from_minor,
                entry_key=entry.entry_id if entry else None,
                entry_version=entry.version if entry else None,
                mode=entry.mode if entry else None,
                accumulation=entry.accumulation.value if entry else None,
                ceiling_tiers=[t.model_dump(mode="json", exclude_none=True) for t in entry.tiers]
                if entry
                else [],
                legal_basis=entry.legal_basis if entry else None,
            )
        )
    return out


def year_span(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


async def annual(session: AsyncSession, year: int) -> AnnualDisclosure:
    starts, ends = year_span(year)
    operators: dict[uuid.UUID, OperatorDisclosed] = {}
    for mandate, operator, resource in await repository.mandates_during(session, starts, ends):
        disclosed = operators.setdefault(
            operator.id,
            OperatorDisclosed(
                operator_id=operator.id,
                name=operator.name,
                credit_code=operator.credit_code,
                authorised_resources=[],
                products=[],
            ),
        )
        disclosed.authorised_resources.append(
            ResourceDisclosed(
                resource_id=resource.id,
                title=resource.title,
                price_catalogue_class=resource.price_catalogue_class,
                mandate_document=mandate.document,
                valid_from=mandate.valid_from,
                valid_to=mandate.valid_to,
            )
        )
    for product in await repository.public_products_of(session, list(operators), ends):
        charged, cap = await revenue_caps.year_figures(session, product.id, year)
        operators[product.seller_id].products.append(
            ProductDisclosed(
                product_id=product.id,
                title=product.title,
                data_class=product.price_catalogue_class,
                listing_status=product.listing_status,
                price_plan=product.price_plan,
                fees_charged_minor=charged,
                permitted_revenue_minor=cap.permitted_minor if cap else None,
                excess_minor=cap.excess_minor if cap else None,
                carried_forward_minor=cap.carried_forward_minor if cap else None,
            )
        )
    ceilings = [
        PriceEntryOut.model_validate(row, from_attributes=True)
        for row in await repository.entries_during(session, starts, ends)
    ]
    return AnnualDisclosure(
        year=year,
        due_by=f"{year + 1}-03-31",
        legal_basis=LEGAL_BASIS,
        ceilings=ceilings,
        operators=list(operators.values()),
    )
