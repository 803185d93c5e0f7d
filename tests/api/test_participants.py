"""Sign-up, login, tenant isolation and credit status through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from market.audit.models import AuditEntry
from market.participants.models import Participant
from tests.api.factories import PASSWORD, Api, row_count, valid_credit_code


def signup_body(**over: Any) -> dict[str, Any]:
    body = {
        "kind": "organisation",
        "name": "长春数据科技有限公司",
        "credit_code": "91350100M000100Y43",
        "user": {"email": "ops@example.cn", "password": PASSWORD, "display_name": "Ops"},
    }
    body.update(over)
    return body


async def test_organisation_signs_up_logs_in_and_reads_only_itself(api: Api, client: Any) -> None:
    r = await client.post("/v1/participants", json=signup_body())
    assert r.status_code == 201, r.text
    me = r.json()["participant"]
    assert me["credit_code"] == "91350100M000100Y43"
    assert me["credit_status"] == "good"
    headers = await api.login("ops@example.cn")
    own = await client.get(f"/v1/participants/{me['id']}", headers=headers)
    assert own.status_code == 200 and own.json()["name"] == "长春数据科技有限公司"

    other = await api.org()
    foreign = await client.get(f"/v1/participants/{other.participant_id}", headers=headers)
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("code", "reason_fragment"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100M0001O0Y43", "not allowed"),  # O
        ("9135010IM000100Y43", "not allowed"),  # I
        ("91350100M000100Z43", "not allowed"),  # Z
        ("91350100M00S100Y43", "not allowed"),  # S
        ("91350100M000V00Y43", "not allowed"),  # V
        ("91350100M000100Y44", "check digit"),
        ("91350100M000101Y43", "organisation code"),
    ],
)
async def test_invalid_credit_codes_are_refused_and_nothing_is_written(
    client: Any, app: Any, code: str, reason_fragment: str
) -> None:
    r = await client.post("/v1/participants", json=signup_body(credit_code=code))
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/invalid-credit-code")
    assert any(
        e["field"] == "body.credit_code" and reason_fragment in e["reason"] for e in problem["errors"]
    ), problem
    assert await row_count(app, Participant) == 0
    assert await row_count(app, AuditEntry) == 0


async def test_duplicate_code_and_email_create_nothing(client: Any, app: Any) -> None:
    """Repeated details answer as new ones do (tests/api/test_uniform_sign_up.py) and store nothing."""
    assert (await client.post("/v1/participants", json=signup_body())).status_code == 201
    again = await client.post(
        "/v1/participants",
        json=signup_body(user={"email": "second@example.cn", "password": PASSWORD, "display_name": "x"}),
    )
    assert again.status_code == 201
    same_mail = await client.post("/v1/participants", json=signup_body(credit_code=valid_credit_code()))
    assert same_mail.status_code == 201
    assert await row_count(app, Participant) == 1


async def test_operator_can_register_a_code_failing_its_check_with_a_reason(api: Api, client: Any) -> None:
    bad = signup_body(
        credit_code="91350100M000100Y44",
        credit_code_override_reason="Code issued in 2016 before re-verification; certificate seen.",
    )
    anonymous = await client.post("/v1/participants", json=bad)
    assert anonymous.status_code == 403
    operator = await api.staff("operator")
    r = await client.post("/v1/participants", json=bad, headers=operator)
    assert r.status_code == 201, r.text
    assert r.json()["participant"]["credit_code_override_reason"].startswith("Code issued")


async def test_natural_person_and_foreign_org(client: Any) -> None:
    person = await client.post(
        "/v1/participants",
        json={
            "kind": "natural_person",
            "name": "王某",
            "identity_number": "220102199001011234",
            "roles": ["buyer"],
            "user": {"email": "wang@example.cn", "password": PASSWORD, "display_name": "王"},
        },
    )
    assert person.status_code == 201, person.text
    foreign = await client.post(
        "/v1/participants",
        json={
            "kind": "organisation",
            "name": "Acme GmbH",
            "jurisdiction": "foreign",
            "country": "DE",
            "user": {"email": "a@acme.de", "password": PASSWORD, "display_name": "A"},
        },
    )
    assert foreign.status_code == 201, foreign.text
    assert foreign.json()["participant"]["jurisdiction"] == "foreign"


async def test_bad_bodies_are_problem_json(client: Any, app: Any) -> None:
    malformed = await client.post(
        "/v1/participants", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["type"].endswith("/malformed-json")
    unknown = await client.post("/v1/participants", json=signup_body(is_admin=True))
    assert unknown.status_code == 422
    assert any(e["field"] == "body.is_admin" for e in unknown.json()["errors"])
    huge = await client.post(
        "/v1/participants", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
    assert huge.json()["type"].endswith("/payload-too-large")
    assert await row_count(app, Participant) == 0


async def test_credit_status_changes_only_by_operator_with_reason_and_is_audited(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    url = f"/v1/participants/{seller.participant_id}/credit"
    denied = await client.patch(
        url, json={"status": "blacklisted", "reason": "fraud"}, headers=seller.headers
    )
    assert denied.status_code == 403
    operator = await api.staff("operator")
    no_reason = await client.patch(url, json={"status": "blacklisted"}, headers=operator)
    assert no_reason.status_code == 422
    ok = await client.patch(
        url, json={"status": "blacklisted", "reason": "court judgment 2026-12"}, headers=operator
    )
    assert ok.status_code == 200 and ok.json()["credit_status"] == "blacklisted"
    async with app.state.sessionmaker() as s:
        actions = list(
            await s.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == seller.participant_id))
        )
    assert "participant.credit_changed" in actions


async def test_sign_up_idempotency_key_replays_and_refuses_other_body(client: Any, app: Any) -> None:
    key = {"Idempotency-Key": "signup-0001-abcdef"}
    first = await client.post("/v1/participants", json=signup_body(), headers=key)
    again = await client.post("/v1/participants", json=signup_body(), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = await client.post("/v1/participants", json=signup_body(name="Other"), headers=key)
    assert other.status_code == 422
    assert await row_count(app, Participant) == 1
