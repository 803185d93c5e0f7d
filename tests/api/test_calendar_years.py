"""Deadlines past the years the holiday calendar knows are refused, never counted with weekends
alone, until an operator enters and confirms the year; a zero publicity period (embedded only)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from market.audit.models import AuditEntry
from market.common import clock
from market.registry.models import CalendarYear, Registration
from market.registry.workdays import BEIJING, official_calendar
from tests.api.factories import Api, row_count
from tests.api.registry_factories import CHECKLIST, resource_with_sample


async def forget_confirmed_years(app: Any) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(delete(CalendarYear))


async def applied(api: Api, seller: Any) -> str:
    resource = await resource_with_sample(api, seller)
    r = await api.client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def approve(client: Any, operator: dict[str, str], registration_id: str) -> Any:
    return await client.post(
        f"/v1/registrations/{registration_id}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )


def move_clock_to(moment: datetime) -> None:
    if moment > clock.now():
        clock.advance(moment - clock.now())


async def test_publicity_reaching_past_the_known_years_is_refused_until_the_year_is_confirmed(
    api: Api, client: Any, app: Any
) -> None:
    await forget_confirmed_years(app)
    last = official_calendar().last_year
    move_clock_to(datetime(last, 12, 21, 10, tzinfo=BEIJING).astimezone(UTC))  # 10 working days reach January
    seller, operator = await api.org(), await api.staff("operator")
    registration_id = await applied(api, seller)
    entries = await row_count(app, AuditEntry)

    refused = await approve(client, operator, registration_id)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/calendar-year-unknown")
    assert problem["date"] == f"{last + 1}-01-01" and problem["last_known_year"] == last
    assert f"reaches {last + 1}-01-01" in problem["detail"] and "POST /v1/holidays/years" in problem["detail"]
    still = (await client.get(f"/v1/registrations/{registration_id}", headers=seller.headers)).json()
    assert still["status"] == "submitted" and still["publicity_ends_at"] is None  # nothing changed
    assert await row_count(app, AuditEntry) == entries

    years = (await client.get("/v1/holidays/years")).json()
    assert years["official_last_year"] == years["known_through"] == last and years["confirmed"] == []
    # A seller cannot vouch for the calendar; an operator may not skip a year or redo a known one.
    body = {"year": last + 1, "source": f"国务院办公厅关于{last + 1}年部分节假日安排的通知"}
    assert (await client.post("/v1/holidays/years", headers=seller.headers, json=body)).status_code == 403
    skipped = await client.post("/v1/holidays/years", headers=operator, json={**body, "year": last + 2})
    assert skipped.status_code == 409 and skipped.json()["errors"][0]["reason"] == f"confirm {last + 1} first"
    known = await client.post("/v1/holidays/years", headers=operator, json={**body, "year": last})
    assert known.status_code == 409 and known.json()["errors"][0]["field"] == "body.year"

    # The operator enters the New Year holiday of the next year, then confirms the year.
    new_year = {"day": f"{last + 1}-01-01", "kind": "holiday", "name": "元旦"}
    assert (await client.post("/v1/holidays", headers=operator, json=new_year)).status_code == 201
    confirmed = await client.post("/v1/holidays/years", headers=operator, json=body)
    assert confirmed.status_code == 201, confirmed.text
    assert (await client.get("/v1/holidays/years")).json()["known_through"] == last + 1

    approved = await approve(client, operator, registration_id)
    assert approved.status_code == 200, approved.text
    ends = datetime.fromisoformat(approved.json()["publicity_ends_at"]).astimezone(BEIJING).date()
    working_days_in_december = sum(
        1
        for d in range(22, 32)
        if date(last, 12, d).weekday() < 5 and date(last, 12, d) not in official_calendar().holidays
    )
    expected, counted = date(last + 1, 1, 1), working_days_in_december
    while counted < 10:  # the rest in January, skipping weekends and the New Year holiday
        expected += timedelta(days=1)
        counted += expected.weekday() < 5
    assert ends == expected
    async with app.state.sessionmaker() as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "calendar"))
        )
    assert sorted(actions) == ["calendar.day_added", "calendar.year_confirmed"]


async def test_an_objection_pause_reaching_an_unknown_year_is_refused_with_the_date(
    api: Api, client: Any, app: Any
) -> None:
    await forget_confirmed_years(app)
    last = official_calendar().last_year
    move_clock_to(datetime(last, 11, 2, 10, tzinfo=BEIJING).astimezone(UTC))
    seller, rival, operator = await api.org(), await api.org(), await api.staff("operator")
    registration_id = await applied(api, seller)
    approved = await approve(client, operator, registration_id)
    assert approved.status_code == 200, approved.text
    objection = await client.post(
        f"/v1/registrations/{registration_id}/objections",
        headers=rival.headers,
        json={"kind": "wrong_data", "grounds": "the district names are misspelt"},
    )
    assert objection.status_code == 201, objection.text
    clock.advance(timedelta(days=70))  # resolved in the next year: the pause's length is unknown
    refused = await client.post(
        f"/v1/objections/{objection.json()['id']}/resolution",
        headers=operator,
        json={"outcome": "dismissed", "reason": "names match the gazetteer"},
    )
    assert refused.status_code == 409 and refused.json()["date"] == f"{last + 1}-01-01"
    listed = (await client.get("/v1/objections", headers=operator)).json()
    assert [o["status"] for o in listed if o["id"] == objection.json()["id"]] == ["open"]  # not resolved
    async with app.state.sessionmaker() as session:
        status = await session.scalar(
            select(Registration.status).where(Registration.id == uuid.UUID(registration_id))
        )
    assert status == "publicity"


async def test_zero_publicity_days_registers_at_approval_in_embedded_mode(
    api: Api, client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.settings, "publicity_working_days", 0)
    seller, operator = await api.org(), await api.staff("operator")
    registration_id = await applied(api, seller)
    approved = await approve(client, operator, registration_id)
    assert approved.status_code == 200, approved.text
    now = await client.get(f"/v1/registrations/{registration_id}", headers=seller.headers)
    assert now.json()["status"] == "registered" and now.json()["registration_number"].startswith("JLDR-")
