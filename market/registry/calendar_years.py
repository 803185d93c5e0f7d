"""HTTP: the years the working-day calendar knows, and operators confirming the next one.

The `chinesecalendar` package knows the official holidays up to the last notice it ships. When
the State Council publishes the next year's arrangement before the package catches up, an
operator enters its holidays and makeup working days (POST /v1/holidays) and then confirms the
year here, so publicity and objection deadlines may reach into it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Operator
from market.common.clock import now
from market.db.session import Session
from market.errors import Conflict, Forbidden, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.registry.models import CalendarYear
from market.registry.schemas import CalendarYearConfirm, CalendarYearOut, CalendarYears
from market.registry.workdays import OFFICIAL_SOURCE, official_calendar

router = APIRouter(prefix="/v1", tags=["registry"])


async def calendar_years(session: AsyncSession) -> CalendarYears:
    official = official_calendar()
    rows = list((await session.execute(select(CalendarYear).order_by(CalendarYear.year))).scalars())
    known_through = official.extended(confirmed_years=[r.year for r in rows]).last_year
    return CalendarYears(
        official_source=OFFICIAL_SOURCE,
        official_first_year=official.first_year,
        official_last_year=official.last_year,
        confirmed=[CalendarYearOut.model_validate(r, from_attributes=True) for r in rows],
        known_through=known_through,
    )


@router.get(
    "/holidays/years",
    response_model=CalendarYears,
    tags=["public"],
    summary="The years whose holidays are known: deadlines past them are refused",
)
async def list_years(session: Session) -> CalendarYears:
    return await calendar_years(session)


@router.post(
    "/holidays/years",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarYearOut,
    summary="Confirm that a year's official holidays and makeup working days are all entered",
    responses=problem_responses(Conflict, Forbidden),
)
async def confirm_year(
    data: CalendarYearConfirm, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "holidays.years.confirm", data)
    if replayed := await call.replay():
        return replayed
    known = await calendar_years(session)
    if data.year <= known.official_last_year:
        raise Conflict(
            f"{data.year} is already known from {known.official_source}; "
            "add single days with POST /v1/holidays",
            fields=[("body.year", "already known")],
        )
    if data.year != known.known_through + 1:
        raise Conflict(
            f"years are confirmed in order: the next one to confirm is {known.known_through + 1}",
            fields=[("body.year", f"confirm {known.known_through + 1} first")],
        )
    year = CalendarYear(year=data.year, source=data.source, confirmed_by=principal.actor, created_at=now())
    session.add(year)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="calendar.year_confirmed",
        subject_type="calendar",
        subject_id=str(data.year),
        payload={"year": data.year, "source": data.source},
    )
    return await call.remember(CalendarYearOut.model_validate(year, from_attributes=True))
