"""Demo time: an operator moves the business clock forward so publicity ends without a database
edit; the move is audited, runs the finalisation job at once, and is refused in production."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.factories import Api
from tests.api.runtime_swaps import as_production
from tests.api.test_registry_lifecycle import apply_and_approve


async def test_moving_the_clock_past_publicity_registers_at_once(api: Api, client: Any, app: Any) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    assert reg["status"] == "publicity"
    ends = datetime.fromisoformat(reg["publicity_ends_at"])

    before = await client.get("/v1/admin/clock", headers=operator)
    assert before.status_code == 200 and before.json()["offset_seconds"] == 0

    moved = await client.post(
        "/v1/admin/clock/advance",
        json={"until": (ends + timedelta(minutes=1)).isoformat()},
        headers=operator,
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["jobs"]["registry.finalise_due"] == 1
    assert body["failed_jobs"] == []
    assert datetime.fromisoformat(body["now"]) > ends
    assert body["offset_seconds"] > 0

    done = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert done["status"] == "registered"
    assert done["registered_at"] == reg["publicity_ends_at"]

    more = await client.post("/v1/admin/clock/advance", json={"by": "1d"}, headers=operator)
    assert more.json()["offset_seconds"] == body["offset_seconds"] + 86400
    auditor = await api.staff("auditor")
    log = await client.get("/v1/audit/entries", params={"action": "clock.advanced"}, headers=auditor)
    entries = log.json()["items"]
    assert [e["payload"]["by_seconds"] for e in entries][-1] == 86400
    assert len(entries) == 2 and entries[0]["subject_type"] == "clock"


async def test_only_operators_move_the_clock_and_only_forward(api: Api, client: Any) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    refused = await client.post("/v1/admin/clock/advance", json={"by": "10d"}, headers=seller.headers)
    assert refused.status_code == 403
    for body, field in (
        ({"by": "ten days"}, "body.by"),
        ({"by": "-1d"}, "body.by"),
        ({}, "body.by"),
        ({"by": "400d"}, "body.by"),
        ({"until": "2001-01-01T00:00:00Z"}, "body.until"),
    ):
        r = await client.post("/v1/admin/clock/advance", json=body, headers=operator)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert (await client.get("/v1/admin/clock", headers=operator)).json()["offset_seconds"] == 0


async def test_production_keeps_real_time(api: Api, client: Any, app: Any) -> None:
    operator = await api.staff("operator")
    runtime = app.state.runtime
    original = runtime.settings
    runtime.settings = as_production(original)
    try:
        r = await client.post("/v1/admin/clock/advance", json={"by": "10d"}, headers=operator)
    finally:
        runtime.settings = original
    assert r.status_code == 403
    assert r.json()["detail"].startswith("the business clock moves only in embedded (demo) mode")
    assert (await client.get("/v1/admin/clock", headers=operator)).json()["offset_seconds"] == 0
