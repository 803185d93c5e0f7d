"""HTTP: public disclosures of paid public data fees (发改价格〔2025〕65号), as JSON or CSV
(`?format=csv` or `Accept: text/csv`). No credentials: they are published."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from market.db.session import Session
from market.disclosures import service
from market.disclosures.schemas import AnnualDisclosure, FeeOut

router = APIRouter(prefix="/v1/disclosures", tags=["disclosures"])
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string", "description": "RFC 4180 CSV, a header row first"}}
        }
    }
}
Format = Annotated[str | None, Query(pattern="^(json|csv)$", description="csv, or send Accept: text/csv")]

FEE_COLUMNS = [
    "product_id",
    "title",
    "operator_id",
    "operator_name",
    "data_class",
    "unit",
    "currency",
    "price_from_minor",
    "price_plan",
    "entry_key",
    "entry_version",
    "mode",
    "accumulation",
    "ceiling_tiers",
    "legal_basis",
]
ANNUAL_COLUMNS = [
    "year",
    "operator_id",
    "operator_name",
    "credit_code",
    "authorised_resources",
    "mandate_documents",
    "product_id",
    "product_title",
    "data_class",
    "listing_status",
    "price_plan",
    "fees_charged_minor",
    "permitted_revenue_minor",
    "excess_minor",
    "carried_forward_minor",
]


def wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/fees",
    response_model=list[FeeOut],
    summary="Each listed paid public data product's price and the ceiling it rests on; public",
    responses=CSV_RESPONSE,
)
async def fees(request: Request, session: Session, format: Format = None) -> Any:
    found = await service.fees(session)
    if wants_csv(request, format):
        return csv_response(FEE_COLUMNS, (f.model_dump(mode="json") for f in found), "fees.csv")
    return found


def _annual_rows(report: AnnualDisclosure) -> Iterable[dict[str, Any]]:
    for op in report.operators:
        base = {
            "year": report.year,
            "operator_id": str(op.operator_id),
            "operator_name": op.name,
            "credit_code": op.credit_code,
            "authorised_resources": ";".join(sorted({str(r.resource_id) for r in op.authorised_resources})),
            "mandate_documents": ";".join(sorted({r.mandate_document for r in op.authorised_resources})),
        }
        if not op.products:
            yield base
        for p in op.products:
            yield base | {
                "product_id": str(p.product_id),
                "product_title": p.title,
                "data_class": p.data_class,
                "listing_status": p.listing_status,
                "price_plan": p.price_plan,
                "fees_charged_minor": p.fees_charged_minor,
                "permitted_revenue_minor": p.permitted_revenue_minor,
                "excess_minor": p.excess_minor,
                "carried_forward_minor": p.carried_forward_minor,
            }


@router.get(
    "/annual/{year}",
    response_model=AnnualDisclosure,
    summary="A year's disclosure: operators, authorised resources, products, fees, revenue against the cap, "
    "and the year's ceilings; public",
    responses=CSV_RESPONSE,
)
async def annual(
    request: Request, session: Session, year: Annotated[int, Path(ge=2000, le=2200)], format: Format = None
) -> Any:
    report = await service.annual(session, year)
    if wants_csv(request, format):
        return csv_response(ANNUAL_COLUMNS, _annual_rows(report), f"disclosure-{year}.csv")
    return report
