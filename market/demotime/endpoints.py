"""HTTP: demo time (operators, embedded mode only)."""

from __future__ import annotations

from fastapi import APIRouter

from market.auth.principal import Operator
from market.common import clock
from market.demotime import service
from market.demotime.schemas import ClockAdvance, ClockOut
from market.errors import Forbidden, InvalidInput, problem_responses
from market.runtime import AppRuntime, AppSettings, SessionMaker

router = APIRouter(prefix="/v1/admin/clock", tags=["demo time"])


@router.get(
    "",
    response_model=ClockOut,
    summary="Business time now and how far it is ahead of the wall clock (operators)",
    responses=problem_responses(Forbidden),
)
async def read_clock(principal: Operator) -> ClockOut:
    return ClockOut(now=clock.now(), offset_seconds=int(clock.total_offset().total_seconds()))


@router.post(
    "/advance",
    response_model=ClockOut,
    summary="Move business time forward and run what became due (operators; embedded mode only, "
    "refused in production)",
    description="For trying the exchange out: a registration's publicity (ten working days, "
    "Art. 62) ends when business time passes its end, and the registration-finalisation job "
    "registers it, here at once. The move is audited (`clock.advanced`) and kept in the data "
    "directory, so `market clock show` and the server agree.",
    responses=problem_responses(InvalidInput, Forbidden),
)
async def advance_clock(
    data: ClockAdvance,
    settings: AppSettings,
    sessionmaker: SessionMaker,
    runtime: AppRuntime,
    principal: Operator,
) -> ClockOut:
    service.refuse_outside_demo(settings)
    delta = service.step(data.by, data.until)
    async with sessionmaker() as session, session.begin():
        offset = await service.advance(session, settings, principal.actor, delta)
    # After the commit: the jobs see the new time in their own transactions.
    done, failed = await service.run_due_jobs(runtime)
    return ClockOut(
        now=clock.now(), offset_seconds=int(offset.total_seconds()), jobs=done, failed_jobs=failed
    )
