"""Data-element registration through the API: review, publicity, objections, certificates."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from market.cli import app as cli
from market.common import clock
from market.registry.certificates import public_key_from_b64, verify_certificate
from market.registry.jobs import finalise_due_registrations
from market.registry.models import DataResource, Registration
from market.registry.workdays import add_working_days
from tests.api.factories import Api
from tests.api.jobs import run
from tests.api.registry_factories import (
    CHECKLIST,
    calendar_in_tests,
    registered_resource,
    resource_body,
    resource_with_sample,
)


async def apply_and_approve(api: Api, seller: Any, operator: dict[str, str]) -> dict[str, Any]:
    resource = await resource_with_sample(api, seller)
    reg = (
        await api.client.post(
            "/v1/registrations",
            headers=seller.headers,
            json={"resource_id": resource["id"], "rights_evidence": "own data"},
        )
    ).json()
    approved = await api.client.post(
        f"/v1/registrations/{reg['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body


async def test_full_registration_lifecycle_and_offline_certificate(
    api: Api, client: Any, tmp_path: Path
) -> None:
    seller, other = await api.org(), await api.org()
    operator = await api.staff("operator")
    sample = b"date,district,flow\n2026-10-01,Nanguan,1200\n"
    resource = await resource_with_sample(api, seller, sample=sample)
    assert resource["fingerprint_sha256"] == hashlib.sha256(sample).hexdigest()
    reg = (
        await client.post(
            "/v1/registrations",
            headers=seller.headers,
            json={"resource_id": resource["id"], "rights_evidence": "own collection"},
        )
    ).json()
    assert reg["status"] == "submitted"
    by_seller = await client.post(
        f"/v1/registrations/{reg['id']}/decision",
        headers=seller.headers,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert by_seller.status_code == 403
    incomplete = await client.post(
        f"/v1/registrations/{reg['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": {**CHECKLIST, "fingerprint": False}},
    )
    assert incomplete.status_code == 422
    public = (
        await client.post(
            f"/v1/registrations/{reg['id']}/decision",
            headers=operator,
            json={"decision": "approve", "checklist": CHECKLIST},
        )
    ).json()
    assert public["status"] == "publicity" and public["publicity_ends_at"]

    objection = await client.post(
        f"/v1/registrations/{reg['id']}/objections",
        headers=other.headers,
        json={"kind": "wrong_data", "grounds": "district names are misspelt"},
    )
    assert objection.status_code == 201, objection.text
    paused = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert paused["publicity_ends_at"] is None  # the clock is paused
    clock.advance(timedelta(days=60))
    assert await run(api.app, finalise_due_registrations) == 0
    still = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert still["status"] == "publicity"  # never registered over an open objection
    overdue = (await client.get("/v1/objections?overdue=true", headers=operator)).json()
    assert [o["id"] for o in overdue] == [objection.json()["id"]] and overdue[0]["overdue"]
    dismissed = await client.post(
        f"/v1/objections/{objection.json()['id']}/resolution",
        headers=operator,
        json={"outcome": "dismissed", "reason": "names match the gazetteer"},
    )
    assert dismissed.json()["status"] == "dismissed"
    resumed = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert resumed["status"] == "publicity" and resumed["publicity_ends_at"] > public["publicity_ends_at"]
    clock.advance(timedelta(days=30))
    waiting = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert waiting["status"] == "publicity"  # reading it registers nothing: the job does
    assert await run(api.app, finalise_due_registrations) == 1
    done = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert done["status"] == "registered" and done["registration_number"].startswith("JLDR-")
    # Registered as of the end of its publicity (Art. 62), not whenever the job happened to run.
    assert done["registered_at"] == resumed["publicity_ends_at"]

    entry = (await client.get(f"/v1/registry/{done['registration_number']}")).json()  # no auth
    key = public_key_from_b64(entry["exchange_public_key"])
    assert verify_certificate(entry["signed_certificate"], key, hashlib.sha256(sample).hexdigest()).ok
    tampered = json.loads(json.dumps(entry["signed_certificate"]))
    tampered["certificate"]["holder_name"] = "Someone Else Ltd"
    assert not verify_certificate(tampered, key).ok
    cert_file, data_file = tmp_path / "cert.json", tmp_path / "data.csv"
    cert_file.write_text(json.dumps(entry), encoding="utf-8")
    data_file.write_bytes(sample)
    ok = CliRunner().invoke(
        cli,
        [
            "registry",
            "verify",
            "--certificate",
            str(cert_file),
            "--file",
            str(data_file),
            "--public-key",
            entry["exchange_public_key"],
        ],
    )
    assert ok.exit_code == 0, ok.output
    data_file.write_bytes(sample + b"tampered\n")
    refused = CliRunner().invoke(
        cli,
        [
            "registry",
            "verify",
            "--certificate",
            str(cert_file),
            "--file",
            str(data_file),
            "--public-key",
            entry["exchange_public_key"],
        ],
    )
    assert refused.exit_code == 1
    rights = (await client.get(f"/v1/resources/{resource['id']}/rights", headers=seller.headers)).json()
    root = rights["roots"][0]
    assert root["grant"]["kind"] == "holding" and root["valid"]
    assert root["grant"]["registration_id"] == reg["id"]


async def test_upheld_objection_rejects_the_registration(api: Api, client: Any) -> None:
    seller, rival = await api.org(), await api.org()
    operator = await api.staff("operator")
    reg = await apply_and_approve(api, seller, operator)
    objection = (
        await client.post(
            f"/v1/registrations/{reg['id']}/objections",
            headers=rival.headers,
            json={"kind": "ownership_dispute", "grounds": "we collected this data"},
        )
    ).json()
    upheld = await client.post(
        f"/v1/objections/{objection['id']}/resolution",
        headers=operator,
        json={"outcome": "upheld", "reason": "contract shows rival owns it"},
    )
    assert upheld.status_code == 200
    clock.advance(timedelta(days=60))
    final = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert final["status"] == "rejected" and "objection upheld" in final["decision_reasons"][0]
    late = await client.post(
        f"/v1/registrations/{reg['id']}/objections",
        headers=rival.headers,
        json={"kind": "wrong_data", "grounds": "too late to object now"},
    )
    assert late.status_code == 409


async def test_publicity_deadline_counts_working_days_and_operator_holidays(api: Api, client: Any) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    plain = await apply_and_approve(api, seller, operator)
    started = plain["publicity_started_at"].replace("Z", "+00:00")
    from datetime import datetime

    start = datetime.fromisoformat(started)
    assert datetime.fromisoformat(plain["publicity_ends_at"]) == add_working_days(
        start, 10, calendar_in_tests()
    )
    # An operator declares a day inside the next window a holiday: the next period is a day longer.
    day = (add_working_days(start, 3, calendar_in_tests())).date()
    added = await client.post(
        "/v1/holidays",
        headers=operator,
        json={"day": day.isoformat(), "kind": "holiday", "name": "provincial day"},
    )
    assert added.status_code == 201
    assert (
        await client.post(
            "/v1/holidays",
            headers=seller.headers,
            json={"day": "2026-12-30", "kind": "holiday", "name": "x"},
        )
    ).status_code == 403
    longer = await apply_and_approve(api, seller, operator)
    assert longer["publicity_ends_at"] > plain["publicity_ends_at"]


async def test_bad_resources_and_uploads_change_nothing(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    for bad in [
        resource_body(category="public"),  # no open class
        resource_body(category="personal", personal_info="anonymised"),  # no method
        resource_body(category="personal", personal_info="identifiable"),  # no consent
        resource_body(open_class="unconditional"),  # open class on enterprise data
        resource_body(security_tags=["aliens"]),
        {k: v for k, v in resource_body().items() if k != "category"},
    ]:
        r = await client.post("/v1/resources", json=bad, headers=seller.headers)
        assert r.status_code == 422, bad
    ok = (await client.post("/v1/resources", json=resource_body(), headers=seller.headers)).json()
    mismatch = await client.put(
        f"/v1/resources/{ok['id']}/sample",
        content=b"abc",
        headers={**seller.headers, "X-Expected-SHA256": "0" * 64},
    )
    assert mismatch.status_code == 422 and mismatch.json()["type"].endswith("/fingerprint-mismatch")
    no_sample = await client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": ok["id"], "rights_evidence": "own"},
    )
    assert no_sample.status_code == 422
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DataResource)) == 1
        assert await s.scalar(select(func.count()).select_from(Registration)) == 0
        assert (await s.scalar(select(DataResource.fingerprint_sha256))) is None
    core = await resource_with_sample(api, seller, grade="core")
    refused = await client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": core["id"], "rights_evidence": "own"},
    )
    assert refused.status_code == 422 and "Art. 82" in refused.json()["detail"]
    stranger = await api.org()
    assert (await client.get(f"/v1/resources/{ok['id']}", headers=stranger.headers)).status_code == 404


async def test_transfer_moves_the_holding_right_and_refuses_blacklisted(api: Api, client: Any) -> None:
    seller, buyer, shady = await api.org(), await api.org(), await api.org()
    operator = await api.staff("operator")
    done = await registered_resource(api, seller, operator)
    reg, resource = done["registration"], done["resource"]
    await client.patch(
        f"/v1/participants/{shady.participant_id}/credit",
        headers=operator,
        json={"status": "blacklisted", "reason": "fraud judgment"},
    )
    refused = await client.post(
        f"/v1/registrations/{reg['id']}/transfer",
        headers=seller.headers,
        json={"to_participant_id": shady.participant_id, "reason": "sale"},
    )
    assert refused.status_code == 422
    transfer = await client.post(
        f"/v1/registrations/{reg['id']}/transfer",
        headers=seller.headers,
        json={"to_participant_id": buyer.participant_id, "reason": "asset sale"},
    )
    assert transfer.status_code == 201, transfer.text
    moved = await client.post(
        f"/v1/registrations/{transfer.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    assert moved.json()["status"] == "registered"
    assert moved.json()["certificate"]["certificate"]["holder_id"] == buyer.participant_id
    tree = (await client.get(f"/v1/resources/{resource['id']}/rights", headers=buyer.headers)).json()
    live = [n for n in tree["roots"] if n["valid"]]
    assert [n["grant"]["holder_id"] for n in live] == [buyer.participant_id]
    assert (await client.get(f"/v1/resources/{resource['id']}", headers=seller.headers)).status_code == 404


async def test_change_registers_a_new_version_and_cancellation_ends_it(api: Api, client: Any) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    done = await registered_resource(api, seller, operator)
    reg, resource = done["registration"], done["resource"]
    nothing_new = await client.post(
        f"/v1/registrations/{reg['id']}/changes",
        headers=seller.headers,
        json={"reason": "new month"},
    )
    assert nothing_new.status_code == 422
    v2 = b"id,revenue\n1,100\n2,250\n"
    await client.put(f"/v1/resources/{resource['id']}/sample", content=v2, headers=seller.headers)
    change = (
        await client.post(
            f"/v1/registrations/{reg['id']}/changes",
            headers=seller.headers,
            json={"reason": "November data added"},
        )
    ).json()
    await client.post(
        f"/v1/registrations/{change['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    clock.advance(timedelta(days=30))
    assert (await client.post("/v1/registrations/finalise-due", headers=operator)).json() == {"registered": 1}
    now_resource = (await client.get(f"/v1/resources/{resource['id']}", headers=seller.headers)).json()
    assert (
        now_resource["version"] == 2 and now_resource["fingerprint_sha256"] == hashlib.sha256(v2).hexdigest()
    )
    old = (await client.get(f"/v1/registrations/{reg['id']}", headers=seller.headers)).json()
    assert old["status"] == "superseded"
    cancel = (
        await client.post(
            f"/v1/registrations/{change['id']}/cancellation",
            headers=seller.headers,
            json={"reason": "we stop offering this data"},
        )
    ).json()
    await client.post(
        f"/v1/registrations/{cancel['id']}/decision",
        headers=operator,
        json={"decision": "approve", "checklist": CHECKLIST},
    )
    number = (await client.get(f"/v1/registrations/{change['id']}", headers=seller.headers)).json()[
        "registration_number"
    ]
    assert (await client.get(f"/v1/registry/{number}")).json()["signed_certificate"]["certificate"][
        "status"
    ] == "cancelled"
    tree = (await client.get(f"/v1/resources/{resource['id']}/rights", headers=seller.headers)).json()
    assert not any(n["valid"] for n in tree["roots"])
    assert (await client.get("/v1/registry/JLDR-2026-R-999999")).status_code == 404
