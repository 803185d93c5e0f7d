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
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal, checked_in_first_read
from market.db.session import get_session
from market.errors import defer_validation_errors
from market.idempotency.service import idempotency_key_of
from market.runtime import Runtime, get_runtime


@dataclass(frozen=True)
class BuyerCall:
    session: AsyncSession  # the request's, whose transaction ends with the endpoint
    principal: Principal  # a buyer, its bearer token checked with the first read
    runtime: Runtime
    sent_key: str | None
    malformed_key: RequestValidationError | None

    @property
    def idempotency_key(self) -> str | None:
        """The `Idempotency-Key` as sent (validated); a route that needs one refuses its absence.
        A malformed one is refused (422 naming the header) here, before the route does anything."""
        if self.malformed_key is not None:
            raise self.malformed_key
        return self.sent_key


async def _buyer_call(request: Request) -> BuyerCall:
    session = await get_session(request)
    # The caller first: a signed-out caller is told so (401) before a malformed key (422).
    principal = await checked_in_first_read(request, session, "buyer")
    try:
        key, malformed = idempotency_key_of(request), None
    except RequestValidationError as invalid:
        # FastAPI validates the body after this dependency: a malformed key is named with the
        # body's errors when it has some, as a header parameter's would be.
        key, malformed = None, invalid
        defer_validation_errors(request, invalid)
    return BuyerCall(session, principal, get_runtime(request), key, malformed)


Buyer = Annotated[BuyerCall, Depends(_buyer_call)]
