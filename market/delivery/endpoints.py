"""HTTP: licences, their ODRL terms, delivery credentials and metered usage."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from contracts import licence_to_odrl
from market.auth.principal import Authenticated, MaybeAuthenticated
from market.common.linked_data import (
    LINKED_DATA_RESPONSES,
    LinkedDataFormat,
    LinkedDataWanted,
    NotAcceptable,
    linked_data_response,
)
from market.db.session import Session
from market.delivery import service
from market.delivery.schemas import LicenceDeliveryOut, LicenceOut, UsageOut, UsageReport
from market.errors import NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.runtime import AppSettings, PublicIris

router = APIRouter(prefix="/v1", tags=["delivery"])


@router.get(
    "/licences/{licence_id}",
    response_model=LicenceOut,
    summary="Licence terms and whether they can be used now",
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound)},
)
async def read_licence(
    licence_id: uuid.UUID, session: Session, principal: Authenticated, iris: PublicIris, ld: LinkedDataWanted
) -> Any:
    licence, tree = await service.visible_licence_with_tree(session, principal, licence_id)
    if ld:  # the licence's IRI, as its ODRL Agreement
        return await linked_data_response(
            iris.document(licence_to_odrl(service.licence_terms(licence), iris)), ld
        )
    usable, why = await service.licence_status(session, licence, tree)
    return LicenceOut(
        id=licence.id,
        order_id=licence.order_id,
        product_id=licence.product_id,
        buyer_id=licence.buyer_id,
        seller_id=licence.seller_id,
        status="active" if usable else "inactive",
        status_reason=why,
        terms=licence.terms,
        valid_from=licence.valid_from,
        valid_to=licence.valid_to,
    )


@router.get(
    "/licences/{licence_id}/odrl",
    summary="Licence as an ODRL 2.2 Agreement (JSON-LD, or Turtle when asked)",
    response_class=Response,
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotFound, NotAcceptable)},
)
async def licence_odrl(
    licence_id: uuid.UUID, session: Session, principal: Authenticated, iris: PublicIris, ld: LinkedDataFormat
) -> Response:
    licence = await service.visible_licence(session, principal, licence_id)
    return await linked_data_response(
        iris.document(licence_to_odrl(service.licence_terms(licence), iris)), ld
    )


@router.get(
    "/deliveries/{licence_id}",
    response_model=LicenceDeliveryOut,
    response_model_exclude_unset=True,
    summary="Download token or API credential and remaining quota",
    responses=problem_responses(NotFound, service.DeliveryRevoked),
)
async def delivery(
    licence_id: uuid.UUID, settings: AppSettings, session: Session, principal: Authenticated
) -> dict[str, Any]:
    return await service.delivery_for_buyer(session, settings, principal, licence_id)


@router.post(
    "/deliveries/{licence_id}/usage",
    response_model=UsageOut,
    summary="Metered usage from the delivery gateway (refused over quota)",
    responses=problem_responses(NotFound, service.QuotaExceeded, service.DeliveryRevoked),
)
async def usage(
    licence_id: uuid.UUID,
    data: UsageReport,
    session: Session,
    principal: MaybeAuthenticated,
    credential: Annotated[str | None, Header(alias="X-Delivery-Credential", max_length=200)] = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    reporter = await service.usage_reporter(session, licence_id, credential=credential, principal=principal)
    # A gateway retrying a report after a lost answer must not count the calls twice.
    call = idempotent(
        session, reporter.actor, idempotency_key, "deliveries.usage", data, licence_id=licence_id
    )
    if replayed := await call.replay():
        return replayed
    entitlement = await service.record_usage(session, reporter, data.calls)
    used = UsageOut(
        licence_id=licence_id, calls_used=entitlement.calls_used, call_quota=entitlement.call_quota
    )
    return await call.remember(used, status_code=200)
