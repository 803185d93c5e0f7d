"""A participant's verification is decided within `participant_verification_working_days`
working days (PRC holidays counted); the deadline shows in the operators' queue and in the
participant's own view, and a verification left undecided past it raises one alert."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from market.common import clock
from market.participants.jobs import alert_overdue_verifications
from market.registry.workdays import add_working_days, load_calendar
from tests.api.factories import VERIFIED_CHECKLIST, Api
from tests.api.jobs import run
from tests.api.test_sessions_and_keys import person

RULE = "participant-verification-overdue"


async def overdue_alerts(client: Any, operator: dict[str, str]) -> list[dict[str, Any]]:
    items = (await client.get("/v1/alerts", headers=operator)).json()["items"]
    return [a for a in items if a["rule"] == RULE]


async def test_the_deadline_is_shown_and_an_undecided_verification_raises_one_alert_past_it(
    api: Api, client: Any, app: Any
) -> None:
    operator = await api.staff("operator")
    signed_up_at = clock.now()
    newcomer = await api.org(verified=False)
    days = app.state.runtime.settings.participant_verification_working_days
    expected = add_working_days(signed_up_at, days, load_calendar())

    queue = (await client.get("/v1/participant-verifications", headers=operator)).json()
    mine = next(i for i in queue if i["participant"]["id"] == newcomer.participant_id)
    due = datetime.fromisoformat(mine["participant"]["verification_due_at"])
    assert due == expected
    own = await client.get(f"/v1/participants/{newcomer.participant_id}", headers=newcomer.headers)
    assert datetime.fromisoformat(own.json()["verification_due_at"]) == due
    assert own.json()["verification_overdue_at"] is None

    assert await run(app, alert_overdue_verifications) == 0  # within the deadline: quiet
    assert await overdue_alerts(client, operator) == []
    # Demo time (`market clock advance`) runs the periodic job as it moves past the deadline.
    moved = await client.post(
        "/v1/admin/clock/advance", json={"until": (due + timedelta(minutes=1)).isoformat()}, headers=operator
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["jobs"]["participants.verification_overdue"] == 1
    assert await run(app, alert_overdue_verifications) == 0  # once only
    [alert] = await overdue_alerts(client, operator)
    assert alert["subject_id"] == newcomer.participant_id
    assert alert["evidence"]["status"] == "pending_verification"
    own = await client.get(f"/v1/participants/{newcomer.participant_id}", headers=newcomer.headers)
    assert own.json()["verification_overdue_at"] is not None


async def test_a_verification_decided_in_time_raises_nothing(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    newcomer = await api.org(verified=False)
    decided = await client.post(
        f"/v1/participants/{newcomer.participant_id}/verification",
        headers=operator,
        json={"decision": "verify", "checklist": VERIFIED_CHECKLIST, "reason": "licence and contact checked"},
    )
    assert decided.status_code == 200, decided.text
    clock.advance(timedelta(days=60))
    assert await run(app, alert_overdue_verifications) == 0
    assert await overdue_alerts(client, operator) == []


async def test_a_natural_person_has_no_verification_deadline(client: Any) -> None:
    signed_up = await client.post("/v1/participants", json=person("li", "220102198805054321"))
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.json()["participant"]["verification_status"] == "verified"
    assert signed_up.json()["participant"]["verification_due_at"] is None
