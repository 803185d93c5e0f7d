"""Registered resources and grants through the real API: apply, review, publicity, registered."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from market.common import clock
from market.registry.jobs import finalise_due_registrations
from market.registry.workdays import HolidayCalendar, load_calendar, official_calendar
from tests.api.factories import Api
from tests.api.jobs import run

CHECKLIST = {
    "classification_present": True,
    "lawful_source": True,
    "fingerprint": True,
    "rights_evidence": True,
}


def years_confirmed_for_tests() -> range:
    """The years after the calendar package's last that the `app` fixture confirms, as an operator
    would, so that tests moving the clock weeks ahead keep working past that year."""
    first = official_calendar().last_year + 1
    return range(first, max(first, clock.now().year + 3))


def calendar_in_tests() -> HolidayCalendar:
    """The calendar the API computes with in tests (see `years_confirmed_for_tests`)."""
    return load_calendar(confirmed_years=years_confirmed_for_tests())


def resource_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "长春企业经营数据",
        "description": "monthly SME operating data",
        "category": "enterprise",
        "grade": "general",
        "lawful_source": "collected in our own operations under contract",
    }
    body.update(over)
    return body


async def resource_with_sample(
    api: Api, seller: Any, sample: bytes = b"id,revenue\n1,100\n", **over: Any
) -> dict[str, Any]:
    r = await api.client.post("/v1/resources", json=resource_body(**over), headers=seller.headers)
    assert r.status_code == 201, r.text
    up = await api.client.put(
        f"/v1/resources/{r.json()['id']}/sample",
        content=sample,
        headers={**seller.headers, "X-Expected-SHA256": hashlib.sha256(sample).hexdigest()},
    )
    assert up.status_code == 200, up.text
    uploaded: dict[str, Any] = up.json()
    return uploaded


async def registered_resource(
    api: Api, seller: Any, operator: dict[str, str] | None = None, **over: Any
) -> dict[str, Any]:
    """The whole Art. 62 flow; returns the registration (with certificate) and the resource."""
    operator = operator or await api.staff("operator")
    resource = await resource_with_sample(api, seller, **over)
    applied = await api.client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={
            "resource_id": resource["id"],
            "rights_evidence": "own collection, contracts on file",
        },
    )
    assert applied.status_code == 201, applied.text
    approved = await api.client.post(
        f"/v1/registrations/{applied.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert approved.status_code == 200, approved.text
    clock.advance(timedelta(days=30))  # past any 10-working-day publicity period
    await run(api.app, finalise_due_registrations)  # as the worker does, every minute
    reg = await api.client.get(f"/v1/registrations/{applied.json()['id']}", headers=seller.headers)
    assert reg.json()["status"] == "registered", reg.json()
    return {"registration": reg.json(), "resource": resource}


async def holding_grant_id(api: Api, headers: dict[str, str], resource_id: str) -> str:
    tree = (await api.client.get(f"/v1/resources/{resource_id}/rights", headers=headers)).json()
    return str(next(n["grant"]["id"] for n in tree["roots"] if n["grant"]["revoked_at"] is None))


async def grant(
    api: Api,
    grantor: Any,
    parent_grant_id: str,
    holder_id: str,
    kind: str,
    subject_kind: str,
    subject_id: str,
    **scope: Any,
) -> Any:
    body = {
        "parent_grant_id": parent_grant_id,
        "kind": kind,
        "holder_id": holder_id,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "purposes": ["risk_control", "commercial_analytics"],
        **scope,
    }
    return await api.client.post("/v1/grants", json=body, headers=grantor.headers)
