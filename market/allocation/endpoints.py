"""HTTP: the exchange's random-allocation draws (Art. 70). Public reads, so anyone can check
the commitment before the window and recompute the winners after the reveal."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from market.allocation import service
from market.allocation.models import AllocationDraw
from market.allocation.schemas import DrawCreate, DrawOut, EntryOut
from market.auth.principal import Buyer, Operator
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent

router = APIRouter(prefix="/v1", tags=["allocation"])

HOW_TO_VERIFY = (
    "SHA-256 of the 32 seed bytes equals the commitment; each entrant's score is "
    "HMAC-SHA256(key = seed bytes, message = entrant UTF-8), e.g. "
    'printf %s "$ENTRANT" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$SEED; '
    "the lowest scores win, in that order (pricing/allocation.py)."
)


async def draw_out(session: AsyncSession, row: AllocationDraw) -> DrawOut:
    result = row.result or {}
    return DrawOut(
        id=row.id,
        product_id=row.product_id,
        rule=row.rule,
        winners_wanted=row.winners_wanted,
        commitment=row.commitment,
        announced_at=row.announced_at,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        entrant_count=await service.entrant_count(session, row.id),
        revealed_at=row.revealed_at,
        # The seed is shown only from the stored result, which exists only after the reveal.
        seed=result.get("seed"),
        entrants=result.get("entrants"),
        entrants_digest=result.get("entrants_digest"),
        winners=result.get("winners"),
        result=row.result,
        how_to_verify=HOW_TO_VERIFY,
    )


@router.post(
    "/allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=DrawOut,
    summary="Announce a random-allocation draw: commit to a secret seed (operators)",
    responses=problem_responses(NotFound, Forbidden),
)
async def announce(
    data: DrawCreate, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "allocations.create", data)
    if replayed := await call.replay():
        return replayed
    row = await service.announce_draw(session, principal, data)
    await session.flush()
    return await call.remember(await draw_out(session, row))


@router.get(
    "/allocations",
    response_model=list[DrawOut],
    summary="A product's draws, with commitments and (once revealed) seeds and winners; public",
)
async def list_draws(session: Session, product_id: Annotated[uuid.UUID, Query()]) -> list[DrawOut]:
    return [await draw_out(session, d) for d in await service.draws_of(session, product_id)]


@router.get(
    "/allocations/{draw_id}",
    response_model=DrawOut,
    summary="A draw: commitment, entrants, and after the reveal the seed and winners; public",
    responses=problem_responses(NotFound),
)
async def read_draw(draw_id: uuid.UUID, session: Session) -> DrawOut:
    return await draw_out(session, await service.get_draw(session, draw_id))


@router.post(
    "/allocations/{draw_id}/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    summary="Enter a draw while its window is open (once per participant)",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def enter(
    draw_id: uuid.UUID, session: Session, principal: Buyer, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(
        session, principal.actor, idempotency_key, "allocations.entries.create", None, draw_id=draw_id
    )
    if replayed := await call.replay():
        return replayed
    entry = await service.enter(session, principal, draw_id)
    return await call.remember(
        EntryOut(draw_id=entry.draw_id, participant_id=entry.participant_id, entered_at=entry.entered_at)
    )


@router.post(
    "/allocations/{draw_id}/reveal",
    response_model=DrawOut,
    summary="Reveal the seed and the winners after the window closes (operators; the worker also does)",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def reveal(draw_id: uuid.UUID, session: Session, principal: Operator) -> DrawOut:
    return await draw_out(session, await service.reveal_draw(session, draw_id, actor=principal.actor))
