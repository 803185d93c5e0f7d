"""HTTP: revenue caps (发改价格〔2025〕65号). The price authority records them; operators, the
price authority and auditors follow revenue against them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from market.auth.principal import PriceAuthority, Principal, require_roles
from market.db.session import Session
from market.errors import Forbidden, NotFound, problem_responses
from market.revenue_caps import service
from market.revenue_caps.schemas import CapOut, CapRecord

router = APIRouter(prefix="/v1", tags=["revenue caps"])
Overseer = Annotated[Principal, Depends(require_roles("operator", "price_authority", "auditor"))]
Year = Annotated[int, Path(ge=2000, le=2200)]


@router.put(
    "/revenue-caps/{product_id}/{year}",
    response_model=CapOut,
    summary="Record a product's maximum permitted revenue for a year (price authority)",
    description="Operating cost + permitted profit + tax (发改价格〔2025〕65号 三); the excess of the "
    "year before is deducted (四). Audited.",
    responses=problem_responses(NotFound, Forbidden),
)
async def record_cap(
    product_id: uuid.UUID, year: Year, data: CapRecord, session: Session, principal: PriceAuthority
) -> CapOut:
    row = await service.record_cap(session, principal, product_id, year, data)
    return await service.cap_out(session, row)


@router.get(
    "/revenue-caps/{product_id}/{year}",
    response_model=CapOut,
    summary="Revenue against the cap (operators, price authority, auditors)",
    responses=problem_responses(NotFound, Forbidden),
)
async def read_cap(product_id: uuid.UUID, year: Year, session: Session, principal: Overseer) -> CapOut:
    return await service.position(session, product_id, year)
