"""Data-subject requests and what an upheld withdrawal or deletion does downstream (PIPL Art.
15, 44-50; Jilin Regulation 2023 Art. 41-44), as a person, a seller, a licensee and an
operator would go through them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from market.audit.models import AuditEntry
from market.common import clock
from market.privacy import jobs
from tests.api.factories import Api
from tests.api.jobs import drain, run
from tests.api.privacy_factories import (
    CapturingSender,
    licensee_of,
    person,
    personal_product,
    quote_body,
    verified_contact,
)
from tests.api.runtime_swaps import contact_sender

PHONE = "13812345678"


def move_clock_past(moment: str) -> None:
    clock.advance(datetime.fromisoformat(moment) - clock.now() + timedelta(minutes=1))


async def events(client: Any, headers: dict[str, str], kind: str) -> list[dict[str, Any]]:
    items = (await client.get("/v1/events", headers=headers)).json()["items"]
    return [e for e in items if e["type"] == kind]


async def audit_leaves(app: Any) -> list[str]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(AuditEntry.leaf))).scalars())


def request_body(**over: Any) -> dict[str, Any]:
    return {
        "kind": "consent_withdrawal",
        "details": "I withdraw my consent to the sale of my data",
        "subject_identifiers": f"mobile {PHONE}, 王五",
        **over,
    }


async def test_a_consent_withdrawal_stops_sales_and_licensees_acknowledge_deletion(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator = await api.org(), await api.staff("operator")
    p = await personal_product(api, seller, operator, people=5_000)
    buyer, licence_id = await licensee_of(api, operator, p["product_id"])
    sender = CapturingSender()
    with contact_sender(app, sender):
        me = await verified_contact(api, sender, PHONE)
    filed = await client.post(
        "/v1/subject-requests", json=request_body(resource_id=p["resource_id"]), headers=me
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert request["status"] == "open" and request["seller_id"] == seller.participant_id
    assert request["verified_by"] == "sms" and request["article"].startswith("PIPL Art. 15")

    # The seller sees it, with what it needs to find the person, and answers: the data goes.
    inbox = (await client.get("/v1/subject-requests", headers=seller.headers)).json()["items"]
    assert [r["id"] for r in inbox] == [request["id"]] and inbox[0]["verified_contact"] == PHONE
    done = await client.post(
        f"/v1/subject-requests/{request['id']}/answer",
        json={"outcome": "fulfilled", "response": "removed from our records and from the resource"},
        headers=seller.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "fulfilled" and done.json()["affected_resource_ids"] == [p["resource_id"]]

    # New sales stop, and buyers are told why.
    product = (await client.get(f"/v1/products/{p['product_id']}")).json()
    assert product["listing_status"] == "suspended" and "withdrew consent" in product["listing_reason"]
    other = await api.org(roles=("buyer",))
    refused = await client.post("/v1/quotes", json=quote_body(p["product_id"]), headers=other.headers)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/product-not-listed")
    assert "withdrew consent" in refused.json()["detail"]

    # The licensee is told (a notification) and sees what it owes; it acknowledges, no one else can.
    await drain(app)
    (told,) = await events(client, buyer.headers, "licensee_obligation.created")
    assert "delete" in told["data"]["required"]
    owed = (await client.get("/v1/licensee-obligations", headers=buyer.headers)).json()["items"]
    assert len(owed) == 1 and owed[0]["status"] == "pending" and owed[0]["licence_id"] == licence_id
    assert owed[0]["cause_kind"] == "consent_withdrawal" and "delete" in owed[0]["required"]
    assert (await client.get("/v1/licensee-obligations", headers=other.headers)).json()["items"] == []
    seller_view = (await client.get("/v1/licensee-obligations", headers=seller.headers)).json()["items"]
    assert [o["id"] for o in seller_view] == [owed[0]["id"]]
    ack_url = f"/v1/licensee-obligations/{owed[0]['id']}/acknowledgement"
    ack = {"outcome": "deleted", "statement": "deleted from our warehouse and backups on receipt"}
    assert (await client.post(ack_url, json=ack, headers=seller.headers)).status_code == 403
    assert (await client.post(ack_url, json=ack, headers=other.headers)).status_code == 404
    acknowledged = await client.post(ack_url, json=ack, headers=buyer.headers)
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    assert (await client.post(ack_url, json=ack, headers=buyer.headers)).status_code == 409

    # Listing again waits for the seller to remove the data and an operator to release the hold.
    relist = await client.post(
        f"/v1/listings/{p['product_id']}/decision",
        json={"action": "list", "reason": "back"},
        headers=operator,
    )
    assert relist.status_code == 409 and relist.json()["type"].endswith("/personal-data-hold")
    (hold,) = (await client.get(f"/v1/resources/{p['resource_id']}/holds", headers=seller.headers)).json()
    released = await client.post(
        f"/v1/resources/{p['resource_id']}/holds/{hold['id']}/release",
        json={"reason": "change registration v2 without the person's rows"},
        headers=operator,
    )
    assert released.status_code == 200 and released.json()["released_at"]
    relist = await client.post(
        f"/v1/listings/{p['product_id']}/decision",
        json={"action": "list", "reason": "back"},
        headers=operator,
    )
    assert relist.status_code == 200
    assert (
        await client.post("/v1/quotes", json=quote_body(p["product_id"]), headers=other.headers)
    ).status_code == 201

    # The log holds the whole story, and the person only as a pseudonym.
    leaves = await audit_leaves(app)
    assert not [leaf for leaf in leaves if PHONE in leaf or "王五" in leaf]
    filed_entry = next(leaf for leaf in leaves if "subject_request.filed" in leaf)
    assert '"actor":"subject:' in filed_entry


async def test_an_unanswered_request_is_warned_then_escalates_at_its_deadline(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator, me = await api.org(), await api.staff("operator"), await person(api)
    filed = await client.post(
        "/v1/subject-requests",
        json=request_body(kind="access", seller_id=seller.participant_id),
        headers=me.headers,
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert request["verified_by"] == "account" and request["resource_id"] is None
    filed_at, due_at = datetime.fromisoformat(request["filed_at"]), datetime.fromisoformat(request["due_at"])
    assert due_at - filed_at >= timedelta(days=19)  # 15 working days are at least three weeks
    assert filed_at < datetime.fromisoformat(request["warn_at"]) < due_at
    url = f"/v1/subject-requests/{request['id']}"

    assert await run(app, jobs.warn_subject_request_deadlines) == 0  # weeks before the deadline
    move_clock_past(request["warn_at"])  # 12 working days: the warning, before the deadline
    assert await run(app, jobs.warn_subject_request_deadlines) == 1
    assert await run(app, jobs.warn_subject_request_deadlines) == 0  # once
    assert (await client.get(url, headers=seller.headers)).json()["warned_at"]
    await drain(app)
    assert len(await events(client, seller.headers, "subject_request.deadline_warning")) == 1
    assert await run(app, jobs.escalate_overdue_subject_requests) == 0
    early = await client.post(
        f"{url}/escalation", json={"reason": "they do not answer me"}, headers=me.headers
    )
    assert early.status_code == 409 and early.json()["type"].endswith("/request-not-yet-due")

    move_clock_past(request["due_at"])  # 15 working days
    assert (await client.get(url, headers=me.headers)).json()["overdue"] is True
    assert await run(app, jobs.escalate_overdue_subject_requests) == 1
    assert await run(app, jobs.escalate_overdue_subject_requests) == 0
    escalated = (await client.get(url, headers=me.headers)).json()
    assert escalated["status"] == "escalated" and escalated["escalation_cause"] == "deadline"
    await drain(app)
    assert len(await events(client, operator, "subject_request.escalated")) == 1
    queue = (await client.get("/v1/subject-requests?status=escalated", headers=operator)).json()["items"]
    assert [r["id"] for r in queue] == [request["id"]]

    upheld = await client.post(
        f"{url}/decision",
        json={"outcome": "upheld", "reason": "the person is entitled to access"},
        headers=operator,
    )
    assert upheld.status_code == 200 and upheld.json()["status"] == "upheld"
    late = await client.post(
        f"{url}/answer",
        json={"outcome": "fulfilled", "response": "copy sent by registered mail"},
        headers=seller.headers,
    )
    assert late.status_code == 200 and late.json()["status"] == "fulfilled"


async def test_a_refusal_gives_reasons_and_the_person_takes_it_to_the_operator(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator, me = await api.org(), await api.staff("operator"), await person(api)
    p = await personal_product(api, seller, operator, people=2_000)
    buyer, _ = await licensee_of(api, operator, p["product_id"])
    filed = await client.post(
        "/v1/subject-requests",
        json=request_body(kind="deletion", seller_id=seller.participant_id),
        headers=me.headers,
    )
    url = f"/v1/subject-requests/{filed.json()['id']}"
    no_reasons = await client.post(
        f"{url}/answer",
        json={"outcome": "refused", "response": "no way", "reasons": [" "]},
        headers=seller.headers,
    )
    assert no_reasons.status_code == 422
    assert [e["field"] for e in no_reasons.json()["errors"]] == ["body.reasons"]
    other_seller = await api.org()
    not_theirs = await client.post(
        f"{url}/answer",
        json={"outcome": "refused", "response": "no way", "reasons": ["x"]},
        headers=other_seller.headers,
    )
    assert not_theirs.status_code == 404
    refused = await client.post(
        f"{url}/answer",
        json={"outcome": "refused", "response": "we keep it", "reasons": ["needed for a pending lawsuit"]},
        headers=seller.headers,
    )
    assert refused.status_code == 200 and refused.json()["refusal_reasons"] == [
        "needed for a pending lawsuit"
    ]
    await drain(app)
    assert len(await events(client, me.headers, "subject_request.refused")) == 1  # the person is told
    escalated = await client.post(
        f"{url}/escalation", json={"reason": "there is no lawsuit about me"}, headers=me.headers
    )
    assert escalated.status_code == 200 and escalated.json()["escalation_cause"] == "requester"

    # Filed against the seller, the operator names the resources the deletion takes effect on.
    unnamed = await client.post(
        f"{url}/decision", json={"outcome": "upheld", "reason": "no lawsuit"}, headers=operator
    )
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "body.resource_ids"
    foreign = await personal_product(api, other_seller, operator, people=10)
    wrong = await client.post(
        f"{url}/decision",
        json={"outcome": "upheld", "reason": "no lawsuit", "resource_ids": [foreign["resource_id"]]},
        headers=operator,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.resource_ids.0"
    upheld = await client.post(
        f"{url}/decision",
        json={"outcome": "upheld", "reason": "no lawsuit", "resource_ids": [p["resource_id"]]},
        headers=operator,
    )
    assert upheld.status_code == 200 and upheld.json()["affected_resource_ids"] == [p["resource_id"]]
    assert (await client.get(f"/v1/products/{p['product_id']}")).json()["listing_status"] == "suspended"
    owed = (await client.get("/v1/licensee-obligations", headers=buyer.headers)).json()["items"]
    assert [o["cause_kind"] for o in owed] == ["deletion"]
    # The other seller's product is untouched.
    assert (await client.get(f"/v1/products/{foreign['product_id']}")).json()["listing_status"] == "listed"


async def test_an_unacknowledged_obligation_escalates_and_the_operator_revokes_the_licence(
    api: Api, client: Any, app: Any
) -> None:
    seller, operator, me = await api.org(), await api.staff("operator"), await person(api)
    p = await personal_product(api, seller, operator, people=2_000)
    buyer, licence_id = await licensee_of(api, operator, p["product_id"])
    filed = await client.post(
        "/v1/subject-requests", json=request_body(resource_id=p["resource_id"]), headers=me.headers
    )
    await client.post(
        f"/v1/subject-requests/{filed.json()['id']}/answer",
        json={"outcome": "fulfilled", "response": "done"},
        headers=seller.headers,
    )
    (owed,) = (await client.get("/v1/licensee-obligations", headers=buyer.headers)).json()["items"]
    resolve = f"/v1/licensee-obligations/{owed['id']}/resolution"
    early = await client.post(
        resolve, json={"action": "close", "reason": "not due yet, probing"}, headers=operator
    )
    assert early.status_code == 409  # only an escalated obligation is the operator's
    assert await run(app, jobs.escalate_overdue_obligations) == 0
    move_clock_past(owed["due_at"])
    assert await run(app, jobs.escalate_overdue_obligations) == 1
    escalated = (await client.get(f"/v1/licensee-obligations/{owed['id']}", headers=operator)).json()
    assert escalated["status"] == "escalated" and escalated["overdue"] is True
    revoked = await client.post(
        resolve,
        json={"action": "revoke_licence", "reason": "no acknowledgement after reminders"},
        headers=operator,
    )
    assert revoked.status_code == 200 and revoked.json()["resolution"] == "licence_revoked"
    licence = (await client.get(f"/v1/licences/{licence_id}", headers=buyer.headers)).json()
    assert licence["status"] == "inactive" and licence["status_reason"].startswith(
        "revoked: personal-data"
    ), licence


async def test_contact_verification_is_honest_about_codes(api: Api, client: Any, app: Any) -> None:
    sender = CapturingSender()
    start = "/v1/subject-requests/contact-verifications"
    with contact_sender(app, sender):
        bad = await client.post(start, json={"channel": "sms", "contact": "12345"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.contact"
        bad_mail = await client.post(start, json={"channel": "email", "contact": "not-an-address"})
        assert bad_mail.status_code == 422
        first = await client.post(start, json={"channel": "email", "contact": "Wang.Wu@Mail.example.cn"})
        assert first.status_code == 201 and first.json()["sent_to"] == "w***@mail.example.cn"
        code = sender.last_code("wang.wu@mail.example.cn")
        confirm = f"{start}/{first.json()['id']}/confirmation"
        wrong = str((int(code) + 1) % 10**6).zfill(6)
        for left in (4, 3, 2, 1):
            r = await client.post(confirm, json={"code": wrong})
            assert r.status_code == 422 and f"{left} attempts left" in r.json()["detail"]
        assert (await client.post(confirm, json={"code": wrong})).status_code == 422
        closed = await client.post(confirm, json={"code": code})  # five wrong tries killed it
        assert closed.status_code == 409 and closed.json()["type"].endswith("/verification-closed")

        second = await client.post(start, json={"channel": "email", "contact": "wang.wu@mail.example.cn"})
        clock.advance(timedelta(minutes=11))
        expired = await client.post(
            f"{start}/{second.json()['id']}/confirmation",
            json={"code": sender.last_code("wang.wu@mail.example.cn")},
        )
        assert expired.status_code == 409 and expired.json()["type"].endswith("/code-expired")
        for _ in range(3):
            assert (
                await client.post(start, json={"channel": "email", "contact": "wang.wu@mail.example.cn"})
            ).status_code == 201
        limited = await client.post(start, json={"channel": "email", "contact": "wang.wu@mail.example.cn"})
        assert limited.status_code == 429

        seller = await api.org()
        mine = await verified_contact(api, sender, "13900000001")
        theirs = await verified_contact(api, sender, "13900000002")
    body = request_body(kind="explanation", seller_id=seller.participant_id)
    filed = await client.post("/v1/subject-requests", json=body, headers=mine)
    assert filed.status_code == 201
    url = f"/v1/subject-requests/{filed.json()['id']}"
    assert (await client.get(url, headers=mine)).status_code == 200
    assert (await client.get(url, headers=theirs)).status_code == 404
    assert (await client.get("/v1/subject-requests", headers=theirs)).json()["items"] == []
    assert (await client.get(url, headers={"X-Requester-Token": "forged"})).status_code == 401
    assert (await client.post("/v1/subject-requests", json=body)).status_code == 401
    organisation = await client.post("/v1/subject-requests", json=body, headers=seller.headers)
    assert organisation.status_code == 403  # data subjects are natural persons
    # The code and the contact never reach the log.
    leaves = await audit_leaves(app)
    assert not [leaf for leaf in leaves if "13900000001" in leaf or "wang.wu@" in leaf or code in leaf]


async def test_without_a_configured_gateway_no_code_is_promised(api: Api, client: Any, app: Any) -> None:
    with contact_sender(app, CapturingSender(available=False)):
        r = await client.post(
            "/v1/subject-requests/contact-verifications", json={"channel": "sms", "contact": PHONE}
        )
    assert r.status_code == 503 and r.json()["type"].endswith("/contact-channel-unavailable")
