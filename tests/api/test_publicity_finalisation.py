"""A registration is registered by the finalisation job, once, as of the end of its publicity:
never by a read. The issue's race: four concurrent GETs after publicity produced four holding
grants, four `registration.registered` entries and two registration numbers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.common import clock
from market.registry.jobs import finalise_due_registrations
from market.registry.models import Registration
from market.rights.models import RightGrantRow
from tests.api.factories import Api
from tests.api.jobs import run
from tests.api.test_registry_lifecycle import apply_and_approve


async def registered_entries(app: Any) -> int:
    async with app.state.sessionmaker() as s:
        stmt = (
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "registration.registered")
        )
        return int(await s.scalar(stmt) or 0)


async def holding_grants(app: Any) -> int:
    async with app.state.sessionmaker() as s:
        stmt = select(func.count()).select_from(RightGrantRow).where(RightGrantRow.kind == "holding")
        return int(await s.scalar(stmt) or 0)


async def test_four_concurrent_reads_after_publicity_register_nothing(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    clock.advance(timedelta(days=30))  # publicity is over
    url = f"/v1/registrations/{reg['id']}"
    reads = await asyncio.gather(*(client.get(url, headers=seller.headers) for _ in range(4)))
    assert [r.status_code for r in reads] == [200] * 4
    # (Before the job queue, each of these reads registered it: on PostgreSQL four entries,
    # four holding grants and two numbers.)
    assert (await registered_entries(app), await holding_grants(app)) == (0, 0)
    assert {r.json()["status"] for r in reads} == {"publicity"}

    # Four finalisers (workers) race, with four readers beside them: registered exactly once.
    raced = await asyncio.gather(
        *(run(app, finalise_due_registrations) for _ in range(4)),
        *(client.get(url, headers=seller.headers) for _ in range(4)),
    )
    assert sum(raced[:4]) == 1
    assert all(r.status_code == 200 for r in raced[4:])
    assert await registered_entries(app) == 1 and await holding_grants(app) == 1
    done = (await client.get(url, headers=seller.headers)).json()
    assert done["status"] == "registered"
    assert done["registration_number"].endswith("-R-000001")
    assert done["registered_at"] == reg["publicity_ends_at"]  # not whenever the job ran
    assert await run(app, finalise_due_registrations) == 0  # and again: nothing left to do


async def test_concurrent_finalisers_number_every_registration_once_without_gaps(
    api: Api, client: Any, app: Any
) -> None:
    operator = await api.staff("operator")
    sellers = [await api.org() for _ in range(6)]
    regs = [await apply_and_approve(api, s, operator) for s in sellers]
    clock.advance(timedelta(days=30))

    async def reader(i: int) -> None:
        for _ in range(3):
            r = await client.get(f"/v1/registrations/{regs[i]['id']}", headers=sellers[i].headers)
            assert r.status_code == 200

    counts = await asyncio.gather(
        *(run(app, finalise_due_registrations) for _ in range(4)), *(reader(i) for i in range(6))
    )
    assert sum(c for c in counts[:4] if c) == 6
    async with app.state.sessionmaker() as s:
        numbers = sorted((await s.execute(select(Registration.registration_number))).scalars())
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3, 4, 5, 6]
    assert await registered_entries(app) == 6 and await holding_grants(app) == 6


async def test_operators_finalise_due_is_safe_beside_the_job(api: Api, client: Any, app: Any) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    await apply_and_approve(api, seller, operator)
    clock.advance(timedelta(days=30))
    answers = await asyncio.gather(
        client.post("/v1/registrations/finalise-due", headers=operator),
        client.post("/v1/registrations/finalise-due", headers=operator),
        run(app, finalise_due_registrations),
    )
    registered = [a.json()["registered"] for a in answers[:2]] + [answers[2]]
    assert sorted(registered) == [0, 0, 1]
    assert await registered_entries(app) == 1


async def test_an_objection_after_publicity_ended_is_refused_and_registers_nothing(
    api: Api, client: Any, app: Any
) -> None:
    seller, rival, operator = await api.org(), await api.org(), await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    clock.advance(timedelta(days=30))
    late = await client.post(
        f"/v1/registrations/{reg['id']}/objections",
        headers=rival.headers,
        json={"kind": "wrong_data", "grounds": "filed after the period ended"},
    )
    assert late.status_code == 409 and "ended" in late.json()["detail"]
    assert await registered_entries(app) == 0
