"""The console as a browser without JavaScript sees it: pages, forms, cookies, the same rules
and audit entries as the API (the JavaScript parts are tested in tests/browser)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

from market.audit.merkle import leaf_hash, node_hash
from market.common import clock
from tests.api.audit_factories import publish_now
from tests.api.compliance_factories import listed_product
from tests.api.console_factories import browser, csrf_of, staff_email
from tests.api.factories import Api
from tests.api.orders_factories import sealed_quote
from tests.api.registry_factories import registered_resource, resource_with_sample


async def test_api_docs_load_only_vendored_assets(client: Any) -> None:
    for page, asset in (
        ("/docs", "/console/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/console/static/vendor/redoc/redoc.standalone.js"),
    ):
        html = (await client.get(page)).text
        assert asset in html
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert external == [], f"{page} loads {external}"
        served = await client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100_000
    assert (await client.get("/console/static/vendor/swagger-ui/swagger-ui.css")).status_code == 200


async def test_landing_page_searches_looks_up_and_verifies_a_certificate(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    reg = (await registered_resource(api, seller))["registration"]
    await publish_now(app)
    async with browser(app) as b:
        page = (await b.get("/")).text
        assert "Latest signed checkpoint" in page and "Jilin Data Exchange" in page
        size = re.search(r'id="tree-size">(\d+)<', page)
        assert size and int(size.group(1)) > 0
        found = (await b.get("/", params={"number": reg["registration_number"]})).text
        assert "Signature verified" in found and reg["registration_number"] in found and "Ed25519" in found
        missing = (await b.get("/", params={"number": "JLDR-2000-R-999999"})).text
        assert "Not found" in missing and "Signature verified" not in missing
        # The same page in Chinese, by the switch (remembered in a cookie).
        assert "最新签名检查点" in (await b.get("/?lang=zh")).text
        assert "最新签名检查点" in (await b.get("/")).text


async def test_log_in_out_with_csrf_and_cookie_flags(api: Api, app: Any) -> None:
    email = await staff_email(app, "operator")
    async with browser(app) as b:
        wrong = await b.log_in(email, "not the password at all")
        assert wrong.status_code == 401 and "Incorrect e-mail or password" in wrong.text
        forged = await b.client.post("/login", data={"email": email, "password": "x", "csrf": "0" * 64})
        assert forged.status_code == 403 and "expired" in forged.text
        login_page = await b.get("/login")
        ok = await b.client.post(
            "/login",
            data={
                "email": email,
                "password": "correct horse battery staple",
                "csrf": csrf_of(login_page.text),
            },
            follow_redirects=False,
        )
        assert ok.status_code == 303
        cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith("market_console="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Secure" not in cookie  # only in production
        assert (await b.get("/console/queues")).status_code == 200
        out = await b.submit("/console/queues", "/logout", {})
        assert out.status_code == 200 and str(out.url).endswith("/")
        gone = await b.get("/console/queues")
        assert str(gone.url).startswith("http://test/login?next=")


async def test_roles_decide_what_the_console_shows(api: Api, app: Any) -> None:
    seller = await api.org()
    async with browser(app) as b:
        anonymous = await b.client.get("/console/queues", follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        await b.log_in(seller.email)
        for page in ("/console/queues", "/console/audit", "/console/alerts"):
            refused = await b.get(page)
            assert refused.status_code == 403 and "You may not open this page" in refused.text
    auditor = await staff_email(app, "auditor")
    async with browser(app) as b:
        await b.log_in(auditor)
        assert (await b.get("/console/audit")).status_code == 200
        assert (await b.get("/console/queues")).status_code == 403


async def test_operator_takes_a_registration_from_review_to_registered(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org(name="长春数据公司")
    resource = await resource_with_sample(api, seller)
    applied = await client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own collection, contracts on file"},
    )
    reg_id = applied.json()["id"]
    case = f"/console/registrations/{reg_id}"
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "operator"))
        queues = (await b.get("/console/queues")).text
        row = re.search(r'data-queue="registrations_to_review">.*?class="count">(\d+)<', queues, re.S)
        assert row and row.group(1) == "1"
        page = (await b.get(case)).text
        assert "长春数据公司" in page and "Art. 82" in page and resource["fingerprint_sha256"] in page
        assert "registration.applied" in page  # the history is the log's
        # An approval with an unticked checklist item is refused by the registry's rule.
        refused = await b.submit(case, f"{case}/decision", {"decision": "approve", "checks": ["fingerprint"]})
        assert "approval needs every checklist item" in refused.text
        assert 'id="registration-status">submitted<' in refused.text
        checks = ["classification_present", "lawful_source", "fingerprint", "rights_evidence"]
        approved = await b.submit(case, f"{case}/decision", {"decision": "approve", "checks": checks})
        assert 'id="registration-status">publicity<' in approved.text
        # Nothing to register before the publicity period ends.
        early = await b.submit(case, "/console/registrations/finalise-due", {"back": case})
        assert "0 registered" in early.text and 'id="registration-status">publicity<' in early.text
        clock.advance(timedelta(days=30))
        done = await b.submit(case, "/console/registrations/finalise-due", {"back": case})
        assert "1 registered" in done.text and 'id="registration-status">registered<' in done.text
        number = re.search(r'id="registration-number"[^>]*>([^<]+)<', done.text)
        assert number
    # The API sees the same registration, and the log the same entries it would have written.
    api_view = (await client.get(f"/v1/registrations/{reg_id}", headers=seller.headers)).json()
    assert api_view["status"] == "registered" and api_view["registration_number"] == number.group(1)
    auditor = await api.staff("auditor")
    entries = (await client.get(f"/v1/audit/entries?subject_id={reg_id}", headers=auditor)).json()["items"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["registration.applied", "registration.approved_for_publicity"]
    assert "registration.registered" in actions or len(actions) >= 3
    assert entries[1]["actor"].startswith("user:")


async def test_a_form_without_its_token_changes_nothing(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    resource = await resource_with_sample(api, seller)
    applied = await client.post(
        "/v1/registrations",
        headers=seller.headers,
        json={"resource_id": resource["id"], "rights_evidence": "own collection"},
    )
    reg_id = applied.json()["id"]
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "operator"))
        r = await b.client.post(
            f"/console/registrations/{reg_id}/decision",
            data={"decision": "reject", "reasons": "no", "csrf": "forged"},
        )
        assert r.status_code == 403
        assert 'id="registration-status">submitted<' in (await b.get(f"/console/registrations/{reg_id}")).text


async def test_audit_entry_page_carries_a_proof_that_verifies(api: Api, app: Any) -> None:
    seller = await api.org()
    await registered_resource(api, seller)
    await publish_now(app)
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "auditor"))
        listing = (await b.get("/console/audit", params={"action": "registration.registered"})).text
        link = re.search(r'href="/console/audit/entry\?id=(\d+)"', listing)
        assert link, listing
        page = (await b.get(f"/console/audit/entry?id={link.group(1)}")).text
        assert "Verify in the browser" in page
        data = json.loads(re.search(r'id="proof-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    # What the page's script checks, checked here the same way: the path leads to the note's root.
    assert leaf_hash(data["leaf"].encode()).hex() == data["leaf_hash"]
    index, size, node = data["leaf_index"], data["tree_size"], bytes.fromhex(data["leaf_hash"])
    fn, sn = index, size - 1
    for sibling in map(bytes.fromhex, data["audit_path"]):
        if fn % 2 == 1 or fn == sn:
            node = node_hash(sibling, node)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    import base64

    assert base64.b64encode(node).decode() == data["checkpoint"].split("\n")[2]


async def test_console_pages_never_write(api: Api, client: Any, app: Any) -> None:
    from tests.api.test_gets_never_write import statements_that_write

    seller = await api.org()
    reg = (await registered_resource(api, seller))["registration"]
    await publish_now(app)
    clock.advance(timedelta(days=30))
    entries = await client.get("/v1/audit/entries?limit=1", headers=await api.staff("auditor"))
    first_entry = entries.json()["items"][0]["id"]
    pages = [
        "/",
        f"/?number={reg['registration_number']}&q=data",
        "/console",
        "/console/catalogue?q=x",
        "/console/queues",
        "/console/registrations?status=registered",
        f"/console/registrations/{reg['id']}",
        "/console/alerts?status=",
        "/console/audit?action=registration.registered",
        f"/console/audit/entry?id={first_entry}",
        "/console/audit/consistency?first=1",
        "/console/stats",
        "/console/stats.csv",
        "/console/price-catalogue",
        "/console/me",
        "/docs",
        "/redoc",
    ]
    for role in ("operator", "auditor"):
        async with browser(app) as b:
            await b.log_in(await staff_email(app, role))
            with statements_that_write(app) as writes:
                for page in pages:
                    r = await b.get(page)
                    assert r.status_code in (200, 403), f"{page} as {role}: {r.status_code}"
                    assert not writes, f"GET {page} as {role} wrote: {writes}"


async def paid_trades(api: Api, client: Any, app: Any, totals: tuple[int, ...]) -> tuple[Any, Any]:
    """Settled trades of `totals` fen between a new seller and buyer (as tests/api/test_stats)."""
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    for total in totals:
        product = await listed_product(app, seller.participant_id)
        quote = await sealed_quote(app, product["product_id"], buyer.participant_id, total_minor=total)
        order = await client.post(
            "/v1/orders",
            json={"quote_id": quote},
            headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert order.status_code == 201, order.text
        paid = await client.post(f"/v1/payments/{order.json()['id']}/confirmation", headers=operator)
        assert paid.status_code == 200, paid.text
    return seller, buyer


async def test_statistics_page_charts_and_exports_the_sql_totals(api: Api, client: Any, app: Any) -> None:
    await paid_trades(api, client, app, (10_000, 30_000))
    authority = await api.staff("price_authority")
    expected = (await client.get("/v1/stats?period=month", headers=authority)).json()
    assert len(expected) == 1 and expected[0]["value_minor"] == 40_000
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "price_authority"))
        page = (await b.get("/console/stats")).text
        assert "¥400.00" in page and "uPlot.iife.min.js" in page
        chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
        assert chart["periods"] == [expected[0]["period"]]
        assert chart["value"][expected[0]["category"]] == ["400.00"]
        exported = await b.get("/console/stats.csv?period=month")
        assert exported.headers["content-type"].startswith("text/csv")
        lines = exported.text.strip().splitlines()
        assert lines[0].startswith("period,category,currency,trades,value_minor")
        assert lines[1].split(",")[3:5] == ["2", "40000"]


async def test_price_authority_publishes_and_withdraws_a_guided_entry(
    api: Api, client: Any, app: Any
) -> None:
    async with browser(app) as b:
        await b.log_in(await staff_email(app, "price_authority"))
        fields = {
            "entry_key": "JL-PUB-CONSOLE-1",
            "data_class": "enterprise_registry",
            "unit": "per_call",
            "mode": "ceiling",
            "tiers": '[{"first_unit": 1, "unit_price": "2.00"}]',
            "effective_from": "2026-01-01T00:00",
            "legal_basis": "发改价格〔2025〕65号",
        }
        bad = await b.submit(
            "/console/price-catalogue", "/console/price-catalogue", {**fields, "tiers": "[]"}
        )
        assert "tiers" in bad.text and 'data-entry="JL-PUB-CONSOLE-1"' not in bad.text
        done = await b.submit("/console/price-catalogue", "/console/price-catalogue", fields)
        assert 'data-entry="JL-PUB-CONSOLE-1"' in done.text
        again = await b.submit("/console/price-catalogue", "/console/price-catalogue", fields)
        assert "publish a new version instead" in again.text
        gone = await b.submit(
            "/console/price-catalogue",
            "/console/price-catalogue/JL-PUB-CONSOLE-1/withdrawal",
            {"reason": "replaced"},
        )
        assert re.search(r'data-entry="JL-PUB-CONSOLE-1">.*?class="status">withdrawn<', gone.text, re.S)
    # The public catalogue (the API) shows what the console published, and the log its entries.
    versions = (await client.get("/v1/price-catalogue/JL-PUB-CONSOLE-1")).json()
    assert versions[0]["status"] == "withdrawn" and versions[0]["data_class"] == "enterprise_registry"
    auditor = await api.staff("auditor")
    log = (await client.get("/v1/audit/entries?subject_id=JL-PUB-CONSOLE-1", headers=auditor)).json()["items"]
    assert [e["action"] for e in log][:1] == ["price_entry.published"]
    # A seller may read the catalogue page but not publish.
    seller = await api.org()
    async with browser(app) as b:
        await b.log_in(seller.email)
        assert (await b.get("/console/price-catalogue")).status_code == 403


async def test_participants_see_their_own_trades_and_nobody_else_s(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await paid_trades(api, client, app, (12_300,))
    key = await client.post("/v1/api-keys", json={"name": "nightly-sync"}, headers=buyer.headers)
    assert key.status_code == 201, key.text
    async with browser(app) as b:
        await b.log_in(buyer.email)
        mine = (await b.get("/console/me")).text
        assert "nightly-sync" in mine and "¥123.00" in mine
        assert re.search(r'id="my-licences">.*?<td>Buyer</td><td>active</td>', mine, re.S)
    other = await api.org()
    async with browser(app) as b:
        await b.log_in(other.email)
        theirs = (await b.get("/console/me")).text
        assert "nightly-sync" not in theirs and "¥123.00" not in theirs
    async with browser(app) as b:
        await b.log_in(seller.email)
        sold = (await b.get("/console/me")).text
        assert "¥123.00" in sold and re.search(r'id="my-orders">.*?<td>Seller</td>', sold, re.S)
