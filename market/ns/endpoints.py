"""HTTP: the exchange's vocabulary and JSON-LD context, public and resolvable."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from market.common.linked_data import (
    LD_JSON,
    LINKED_DATA_RESPONSES,
    LinkedDataFormat,
    NotAcceptable,
    linked_data_response,
)
from market.errors import problem_responses
from market.ns.vocabulary import vocabulary_document
from market.runtime import AppSettings, PublicIris

router = APIRouter(tags=["linked data"])


@router.get(
    "/ns/market",
    summary="The exchange's vocabulary: rights, grades, categories, purposes (JSON-LD or Turtle); public",
    responses={**LINKED_DATA_RESPONSES, **problem_responses(NotAcceptable)},
    response_class=Response,
)
async def vocabulary(iris: PublicIris, settings: AppSettings, media_type: LinkedDataFormat) -> Response:
    return await linked_data_response(vocabulary_document(iris, settings.contact_email), media_type)


@router.get(
    "/ns/market/context.jsonld",
    summary="The JSON-LD context every document of the exchange uses (inline in each); public",
    response_class=Response,
    responses={
        200: {
            "content": {
                LD_JSON: {
                    "schema": {"type": "object", "required": ["@context"], "description": "JSON-LD context"}
                }
            }
        }
    },
)
async def context(iris: PublicIris) -> JSONResponse:
    return JSONResponse({"@context": iris.context()}, media_type=LD_JSON)
