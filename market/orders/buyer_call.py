"""A buyer's call on a purchase's hot path (the quote and the order), resolved as one dependency.

FastAPI resolves each dependency and header parameter of a route on every request, a cost that
grows with their number and that `/readyz`, which has none, does not pay: the quote's and the
order's came to about a tenth of a prepaid purchase's server CPU (issue 21). Their session,
caller, settings, payment provider and `Idempotency-Key` are read here instead, by the same
functions their own dependencies call. The OpenAPI document still names the credentials and the
header: such a route passes `openapi_extra=SIGNED_IN_OPENAPI | <the key's>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal, checked_in_first_read
from market.db.session import get_session
from market.idempotency.service import idempotency_key_of
from market.runtime import Runtime, get_runtime


@dataclass(frozen=True)
class BuyerCall:
    session: AsyncSession  # the request's, whose transaction ends with the endpoint
    principal: Principal  # a buyer, its bearer token checked with the first read
    runtime: Runtime
    idempotency_key: str | None  # as sent (validated); a route that needs one refuses its absence


async def _buyer_call(request: Request) -> BuyerCall:
    session = await get_session(request)
    # The caller first: a signed-out caller is told so (401) before a malformed key (422).
    principal = await checked_in_first_read(request, session, "buyer")
    return BuyerCall(session, principal, get_runtime(request), idempotency_key_of(request))


Buyer = Annotated[BuyerCall, Depends(_buyer_call)]
