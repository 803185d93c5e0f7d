"""The operators' case pages beyond registrations, as a browser without JavaScript uses them:
listings, compliance reviews, disputes, data-subject escalations and participant verifications.
Each decision goes through the API's own service, so the API then shows the same state and the
log holds the same entries; a participant is refused, a form without its token changes nothing,
and bad input is answered with a message naming the field."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from market.common import clock
from tests.api.case_factories import escalated_request, open_dispute, parked_listing, parked_order
from tests.api.console_factories import Browser, browser, staff_email
from tests.api.factories import Api

CHECKS = ["identity_documents", "legal_representative", "contact", "intended_use"]


def status_on(page: str, element: str) -> str:
    found = re.search(rf'id="{element}">([^<]+)<', page)
    assert found, page
    return found.group(1)


class FormFields(HTMLParser):
    """The ids of a page's visible form fields, and the ids its labels name."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "textarea", "select") and a.get("type") != "hidden":
            self.fields.append(a.get("id") or f"<{tag} name={a.get('name')} without id>")
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))


def form_fields(page: str) -> tuple[list[str], list[str]]:
    """(every visible field, those without a label)"""
    parser = FormFields()
    parser.feed(page)
    return parser.fields, [f for f in parser.fields if f not in parser.labelled]


def flash(page: str) -> str:
    found = re.search(r'class="flash (?:ok|error)" role="status">([^<]*)<', page)
    return found.group(1) if found else ""


async def actions_of(client: Any, api: Api, subject_id: str) -> list[tuple[str, str]]:
    auditor = await api.staff("auditor")
    entries = await client.get(f"/v1/audit/entries?subject_id={subject_id}&limit=200", headers=auditor)
    return [(e["action"], e["actor"]) for e in entries.json()["items"]]


async def operator(app: Any, b: Browser) -> None:
    await b.log_in(await staff_email(app, "operator"))


async def test_queues_count_every_case_queue_and_link_to_its_cases(api: Api, client: Any, app: Any) -> None:
    seller = await api.org(name="长春数据公司")
    product_id = await parked_listing(api, seller)
    order = await parked_order(api)
    dispute = await open_dispute(api)
    request_id = await escalated_request(api, seller)
    newcomer = await api.org(name="待核验公司", verified=False)
    expected = {
        "listings_to_review": ("/console/listings", f"/console/listings/{product_id}", 1),
        "compliance_reviews": ("/console/compliance-reviews", "/console/compliance-reviews/", 2),
        "open_disputes": ("/console/disputes", f"/console/disputes/{dispute['id']}", 1),
        "subject_escalations": (
            "/console/subject-escalations",
            f"/console/subject-escalations/{request_id}",
            1,
        ),
        "participant_verifications": (
            "/console/participant-verifications",
            f"/console/participant-verifications/{newcomer.participant_id}",
            1,
        ),
    }
    async with browser(app) as b:
        await operator(app, b)
        queues = (await b.get("/console/queues")).text
        for key, (queue, case, count) in expected.items():
            row = re.search(
                rf'data-queue="{key}">\s*<th scope="row"><a href="([^"]+)">.*?class="count">(\d+)<',
                queues,
                re.S,
            )
            assert row, key
            assert row.group(1) == queue and int(row.group(2)) == count, (key, row.groups())
            listing = (await b.get(queue)).text
            assert listing.count(f'href="{case}') == count, (key, listing)
        # The dispute's deadline (working days) is the queue's deadline.
        assert re.search(
            r'data-queue="open_disputes">.*?<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>\s*<td>\d{4}-', queues, re.S
        )
        compliance = (await b.get("/console/compliance-reviews")).text
        assert f"order {order['id']}" in compliance and f"product {product_id}" in compliance
        assert "长春企业经营指数 (listing: product" in compliance  # the parked product, by its title
        # The same queue in Chinese.
        assert "待核验参与方" in (await b.get("/console/queues?lang=zh")).text


async def test_operator_lists_a_parked_listing(api: Api, client: Any, app: Any) -> None:
    seller = await api.org(name="长春数据公司")
    product_id = await parked_listing(api, seller, title="吉林重要数据指数")
    case = f"/console/listings/{product_id}"
    async with browser(app) as b:
        await operator(app, b)
        page = (await b.get(case)).text
        assert "吉林重要数据指数" in page and "长春数据公司" in page
        assert status_on(page, "listing-status") == "needs_review"
        # The rule set's own finding, with its article and rule id, waiting for a person.
        assert "Art. 82" in page and "(DATA-002)" in page and "needs review" in page
        assert "listing.needs_review" in page  # the history is the log's
        too_short = await b.submit(case, f"{case}/decision", {"action": "list", "reason": "ok"})
        assert "reason" in flash(too_short.text) and "at least 3" in flash(too_short.text)
        assert status_on(too_short.text, "listing-status") == "needs_review"
        no_action = await b.submit(case, f"{case}/decision", {"reason": "reviewed the scenario"})
        assert "action" in flash(no_action.text)
        suspended = await b.submit(
            case, f"{case}/decision", {"action": "suspend", "reason": "not yet listed"}
        )
        assert "cannot suspend a needs_review product" in flash(suspended.text)
        listed = await b.submit(
            case, f"{case}/decision", {"action": "list", "reason": "scenario and rights in order"}
        )
        assert flash(listed.text) == "Decision recorded"
        assert status_on(listed.text, "listing-status") == "listed"
        assert "scenario and rights in order" in listed.text and "listing.listed" in listed.text
    api_view = (await client.get(f"/v1/products/{product_id}", headers=seller.headers)).json()
    assert api_view["listing_status"] == "listed"
    actions = await actions_of(client, api, product_id)
    assert ("compliance.reviewed", actions[-2][1]) in actions and actions[-1][0] == "listing.listed"
    assert actions[-1][1].startswith("user:")
    reviews = (await client.get("/v1/compliance/reviews", headers=await api.staff("operator"))).json()
    assert product_id not in {r["subject_id"] for r in reviews["items"]}


async def test_operator_decides_compliance_reviews_of_an_order_and_a_listing(
    api: Api, client: Any, app: Any
) -> None:
    order = await parked_order(api)
    seller = await api.org()
    product_id = await parked_listing(api, seller)
    operator_headers = await api.staff("operator")
    reviews = (await client.get("/v1/compliance/reviews", headers=operator_headers)).json()["items"]
    by_subject = {r["subject_id"]: r["id"] for r in reviews}
    async with browser(app) as b:
        await operator(app, b)
        order_case = f"/console/compliance-reviews/{by_subject[order['id']]}"
        page = (await b.get(order_case)).text
        assert status_on(page, "review-status") == "pending" and "Art." in page
        unchosen = await b.submit(order_case, f"{order_case}/decision", {"reason": "purpose confirmed"})
        assert flash(unchosen.text) == "Choose approve or reject"
        approved = await b.submit(
            order_case,
            f"{order_case}/decision",
            {"decision": "approve", "reason": "purpose confirmed by phone"},
        )
        assert (
            flash(approved.text) == "Decision recorded"
            and status_on(approved.text, "review-status") == "approved"
        )
        assert 'id="decision-form"' not in approved.text
        again = await b.client.post(
            f"{order_case}/decision",
            data={"decision": "reject", "reason": "changed my mind", "csrf": _csrf(approved.text)},
        )
        assert "no compliance review is pending" in flash(again.text) or "cannot" in flash(again.text)
        listing_case = f"/console/compliance-reviews/{by_subject[product_id]}"
        rejected = await b.submit(
            listing_case, f"{listing_case}/decision", {"decision": "reject", "reason": "scenario too broad"}
        )
        assert status_on(rejected.text, "review-status") == "rejected"
    buyer_view = (await client.get(f"/v1/orders/{order['id']}", headers=operator_headers)).json()
    assert buyer_view["status"] == "pending_payment"
    assert (await client.get(f"/v1/products/{product_id}", headers=seller.headers)).json()[
        "listing_status"
    ] == "rejected"
    assert "order.reviewed" in [a for a, _ in await actions_of(client, api, order["id"])]


def _csrf(page: str) -> str:
    from tests.api.console_factories import csrf_of

    return csrf_of(page)


async def test_operator_resolves_a_dispute_with_a_partial_refund(api: Api, client: Any, app: Any) -> None:
    dispute = await open_dispute(api, total_minor=36_500)
    case = f"/console/disputes/{dispute['id']}"
    async with browser(app) as b:
        await operator(app, b)
        page = (await b.get(case)).text
        assert status_on(page, "dispute-status") == "open" and "half the fields are empty" in page
        assert "dispute.open" in page and "payout: frozen" in page
        answer_due = r"Seller answers by its working-day deadline</td><td>[^<]*</td>\s*<td class=\"(\w+)\""
        assert re.search(answer_due, page).group(1) == "ok"  # type: ignore[union-attr]  # not yet due
        clock.advance(timedelta(days=8))  # past the seller's five working days, unanswered
        late = (await b.get(case)).text
        assert re.search(answer_due, late).group(1) == "bad"  # type: ignore[union-attr]
        stray = await b.submit(
            case, f"{case}/resolution", {"outcome": "reject", "amount_minor": "100", "reason": "x y z"}
        )
        assert flash(stray.text) == "A refund amount is given only with a partial refund"
        not_fen = await b.submit(
            case,
            f"{case}/resolution",
            {"outcome": "refund_partial", "amount_minor": "12.50", "reason": "one month"},
        )
        assert flash(not_fen.text) == "The refund amount is a whole number of fen"
        too_much = await b.submit(
            case,
            f"{case}/resolution",
            {"outcome": "refund_partial", "amount_minor": "99999999", "reason": "one month"},
        )
        assert flash(too_much.text) and status_on(too_much.text, "dispute-status") == "open"
        done = await b.submit(
            case,
            f"{case}/resolution",
            {"outcome": "refund_partial", "amount_minor": "10000", "reason": "one month empty"},
        )
        assert flash(done.text) == "Decision recorded", flash(done.text)
        assert status_on(done.text, "dispute-status") == "partially_refunded"
    api_view = (await client.get(f"/v1/disputes/{dispute['id']}", headers=await api.staff("operator"))).json()
    assert (api_view["status"], api_view["refund_minor"]) == ("partially_refunded", 10000)


async def test_operator_decides_a_data_subject_escalation(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    request_id = await escalated_request(api, seller)
    case = f"/console/subject-escalations/{request_id}"
    async with browser(app) as b:
        await operator(app, b)
        page = (await b.get(case)).text
        assert status_on(page, "request-status") == "escalated"
        assert "PIPL Art. 45" in page and "they bought my records" in page and "no such person" in page
        empty = await b.submit(case, f"{case}/decision", {"outcome": "upheld", "reason": ""})
        assert "reason" in flash(empty.text) and status_on(empty.text, "request-status") == "escalated"
        upheld = await b.submit(
            case, f"{case}/decision", {"outcome": "upheld", "reason": "the person is entitled"}
        )
        assert status_on(upheld.text, "request-status") == "upheld"
        assert "subject_request.upheld" in upheld.text
    api_view = (
        await client.get(f"/v1/subject-requests/{request_id}", headers=await api.staff("operator"))
    ).json()
    assert api_view["status"] == "upheld"


async def test_operator_verifies_a_participant_against_the_checklist(api: Api, client: Any, app: Any) -> None:
    newcomer = await api.org(name="待核验公司", verified=False)
    case = f"/console/participant-verifications/{newcomer.participant_id}"
    async with browser(app) as b:
        await operator(app, b)
        queue = (await b.get("/console/participant-verifications")).text
        assert "待核验公司" in queue and newcomer.email in queue
        page = (await b.get(case)).text
        assert status_on(page, "verification-status") == "pending_verification"
        assert newcomer.credit_code and newcomer.credit_code in page and "GB 32100-2015" in page
        unticked = await b.submit(
            case,
            f"{case}/decision",
            {
                "decision": "verify",
                "checks": CHECKS[:2],
                "reason": "licence checked",
                "documents": "licence.pdf",
            },
        )
        assert "every checklist item must be done" in flash(unticked.text)
        assert "checklist.contact" in flash(unticked.text)
        assert status_on(unticked.text, "verification-status") == "pending_verification"
        verified = await b.submit(
            case,
            f"{case}/decision",
            {
                "decision": "verify",
                "checks": CHECKS,
                "reason": "licence, representative and contact checked",
                "documents": "business-licence.pdf\nmandate.pdf",
            },
        )
        assert status_on(verified.text, "verification-status") == "verified"
        assert "participant.verified" in verified.text
        assert newcomer.participant_id not in (await b.get("/console/participant-verifications")).text
    auditor = await api.staff("auditor")
    entries = (
        await client.get(f"/v1/audit/entries?subject_id={newcomer.participant_id}", headers=auditor)
    ).json()["items"]
    verified_entry = next(e for e in entries if e["action"] == "participant.verified")
    assert verified_entry["payload"]["documents"] == ["business-licence.pdf", "mandate.pdf"]


async def test_participants_are_refused_and_forms_need_their_token(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    product_id = await parked_listing(api, seller)
    dispute = await open_dispute(api)
    request_id = await escalated_request(api, seller)
    newcomer = await api.org(verified=False)
    reviews = (await client.get("/v1/compliance/reviews", headers=await api.staff("operator"))).json()
    decision_id = reviews["items"][0]["id"]
    forms: dict[str, tuple[str, dict[str, Any]]] = {
        f"/console/listings/{product_id}": ("decision", {"action": "list", "reason": "forged approval"}),
        f"/console/compliance-reviews/{decision_id}": (
            "decision",
            {"decision": "approve", "reason": "forged"},
        ),
        f"/console/disputes/{dispute['id']}": ("resolution", {"outcome": "refund_full", "reason": "forged"}),
        f"/console/subject-escalations/{request_id}": (
            "decision",
            {"outcome": "dismissed", "reason": "forged"},
        ),
        f"/console/participant-verifications/{newcomer.participant_id}": (
            "decision",
            {"decision": "verify", "checks": CHECKS, "reason": "forged verification"},
        ),
    }
    queues = [
        "/console/listings",
        "/console/compliance-reviews",
        "/console/disputes",
        "/console/subject-escalations",
        "/console/participant-verifications",
    ]
    async with browser(app) as b:
        await b.log_in(seller.email)
        token = _csrf((await b.get("/console/me")).text)
        for page in [*queues, *forms]:
            refused = await b.get(page)
            assert refused.status_code == 403 and "You may not open this page" in refused.text, page
        for page, (action, fields) in forms.items():
            r = await b.client.post(f"{page}/{action}", data={**fields, "csrf": token})
            assert r.status_code == 403, page
    async with browser(app) as b:
        await operator(app, b)
        for page, (action, fields) in forms.items():
            r = await b.client.post(f"{page}/{action}", data=fields)
            assert r.status_code == 403 and "The form expired" in r.text, page
            r = await b.client.post(f"{page}/{action}", data={**fields, "csrf": "forged"})
            assert r.status_code == 403, page
        # Nothing changed anywhere.
        assert (
            status_on((await b.get(f"/console/listings/{product_id}")).text, "listing-status")
            == "needs_review"
        )
        assert status_on((await b.get(f"/console/disputes/{dispute['id']}")).text, "dispute-status") == "open"
        assert (
            status_on((await b.get(f"/console/subject-escalations/{request_id}")).text, "request-status")
            == "escalated"
        )
        assert (
            status_on(
                (await b.get(f"/console/participant-verifications/{newcomer.participant_id}")).text,
                "verification-status",
            )
            == "pending_verification"
        )
        assert (
            status_on((await b.get(f"/console/compliance-reviews/{decision_id}")).text, "review-status")
            == "pending"
        )
        missing = await b.get("/console/disputes/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404


async def test_case_pages_never_write_and_speak_chinese(api: Api, client: Any, app: Any) -> None:
    from tests.api.test_gets_never_write import statements_that_write

    seller = await api.org()
    product_id = await parked_listing(api, seller)
    dispute = await open_dispute(api)
    request_id = await escalated_request(api, seller)
    newcomer = await api.org(verified=False)
    reviews = (await client.get("/v1/compliance/reviews", headers=await api.staff("operator"))).json()
    pages = [
        "/console/listings",
        f"/console/listings/{product_id}",
        "/console/compliance-reviews",
        f"/console/compliance-reviews/{reviews['items'][0]['id']}",
        "/console/disputes",
        f"/console/disputes/{dispute['id']}",
        "/console/subject-escalations",
        f"/console/subject-escalations/{request_id}",
        "/console/participant-verifications?status=held",
        f"/console/participant-verifications/{newcomer.participant_id}",
    ]
    seen_fields: list[str] = []
    async with browser(app, lang="zh") as b:
        await operator(app, b)
        with statements_that_write(app) as writes:
            for page in pages:
                r = await b.get(page)
                assert r.status_code == 200, page
                assert not writes, f"GET {page} wrote: {writes}"
                # Every word this page shows is translated (a missing key shows as itself).
                assert not re.search(r">\s*case_[a-z_]+\s*<", r.text), page
                # Every field a keyboard reaches has its label (the forms are used without a mouse).
                fields, unlabelled = form_fields(r.text)
                assert unlabelled == [], page
                seen_fields += fields
        assert {"reason", "amount_minor", "documents", "check-contact", "outcome-upheld"} <= set(seen_fields)
        assert "挂牌审核案件" in (await b.get(f"/console/listings/{product_id}")).text
        assert (
            "参与方核验"
            in (await b.get(f"/console/participant-verifications/{newcomer.participant_id}")).text
        )
