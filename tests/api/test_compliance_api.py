"""The compliance rules through the API: dry runs, facts on file, decisions and reviews."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.catalog.models import Product
from market.catalog.products import compliance_subject
from market.common.clock import now
from market.compliance import service
from market.compliance.models import ComplianceDecisionRow
from tests.api.compliance_factories import listed_product
from tests.api.factories import Api, row_count


async def dry_run(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return await client.post("/v1/compliance/checks", json=body, headers=headers)


def rule_ids(decision: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in decision["findings"]}


async def test_enterprise_listing_with_operating_right_is_allowed(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    p = await listed_product(app, seller.participant_id)
    r = await dry_run(client, seller.headers, kind="listing", product_id=p["product_id"])
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "allow"
    assert r.json()["ruleset_version"]


async def test_core_data_and_missing_operating_right_are_denied_with_articles(
    api: Api, client: Any, app: Any
) -> None:
    seller = await api.org()
    p = await listed_product(app, seller.participant_id, grade="core", operating_right=False)
    r = await dry_run(client, seller.headers, kind="listing", product_id=p["product_id"])
    decision = r.json()
    assert decision["outcome"] == "deny"
    assert {"DATA-001", "LIST-001"} <= rule_ids(decision)  # every finding, not just the first
    articles = " ".join(f["article"] for f in decision["findings"])
    assert "Art. 82" in articles and "Art. 22" in articles
    assert all(f["message_zh"] and f["message_en"] for f in decision["findings"])


async def test_dry_run_changes_nothing(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    p = await listed_product(app, seller.participant_id, grade="core")
    before = (await row_count(app, ComplianceDecisionRow), await row_count(app, AuditEntry))
    await dry_run(client, seller.headers, kind="listing", product_id=p["product_id"])
    assert (await row_count(app, ComplianceDecisionRow), await row_count(app, AuditEntry)) == before


async def test_trade_checks_buyer_credit_purpose_and_scenario(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    p = await listed_product(app, seller.participant_id)
    ok = await dry_run(
        client,
        buyer.headers,
        kind="trade",
        product_id=p["product_id"],
        purpose="risk_control",
        scenario="credit risk scoring",
    )
    assert ok.json()["outcome"] == "allow", ok.json()
    wrong = await dry_run(
        client,
        buyer.headers,
        kind="trade",
        product_id=p["product_id"],
        purpose="marketing",
        scenario="cold calling",
    )
    assert wrong.json()["outcome"] == "deny"
    assert {"TRADE-001", "TRADE-002"} <= rule_ids(wrong.json())
    operator = await api.staff("operator")
    await client.patch(
        f"/v1/participants/{buyer.participant_id}/credit",
        json={"status": "blacklisted", "reason": "court judgment"},
        headers=operator,
    )
    # Blacklisting ended the buyer's sessions (issue 18); an operator checks the trade for it.
    assert (await dry_run(client, buyer.headers, kind="trade", product_id=p["product_id"])).status_code == 401
    blacklisted = await dry_run(
        client,
        operator,
        kind="trade",
        product_id=p["product_id"],
        purpose="risk_control",
        scenario="credit risk scoring",
        buyer_id=buyer.participant_id,
    )
    assert blacklisted.json()["outcome"] == "deny", blacklisted.text
    assert "PART-003" in rule_ids(blacklisted.json())


async def test_unknown_purpose_and_malformed_checks_are_422(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    p = await listed_product(app, seller.participant_id)
    r = await dry_run(
        client,
        seller.headers,
        kind="trade",
        product_id=p["product_id"],
        purpose="world_domination",
        scenario="x",
    )
    assert r.status_code == 422
    assert any(e["field"].endswith("purpose") for e in r.json()["errors"])
    missing = await dry_run(client, seller.headers, kind="trade", product_id=p["product_id"])
    assert missing.status_code == 422


async def test_another_sellers_unlisted_product_is_404(api: Api, client: Any, app: Any) -> None:
    seller, other = await api.org(), await api.org()
    p = await listed_product(app, seller.participant_id, listing_status="draft")
    r = await dry_run(client, other.headers, kind="listing", product_id=p["product_id"])
    assert r.status_code == 404


async def test_conditional_public_data_needs_an_approved_application(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    p = await listed_product(
        app, seller.participant_id, category="public", open_class="conditional", plan_price="0"
    )
    trade = {
        "kind": "trade",
        "product_id": p["product_id"],
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
    }
    before = await dry_run(client, buyer.headers, **trade)
    assert "TRADE-004" in rule_ids(before.json()) and before.json()["outcome"] == "deny"
    applied = await client.post(
        "/v1/compliance/open-applications",
        headers=buyer.headers,
        json={"resource_id": p["resource_id"], "purposes": ["risk_control"], "scope": "SME loans"},
    )
    assert applied.status_code == 201, applied.text
    decided = await client.post(
        f"/v1/compliance/open-applications/{applied.json()['id']}/decision",
        headers=operator,
        json={"decision": "approve", "conditions": "no re-identification", "reason": "fits"},
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    after = await dry_run(client, buyer.headers, **trade)
    assert "TRADE-004" not in rule_ids(after.json())


async def test_paid_public_data_needs_a_valid_mandate(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    operator = await api.staff("operator")
    p = await listed_product(
        app,
        seller.participant_id,
        category="public",
        open_class="unconditional",
        plan_price="10.00",
    )
    denied = await dry_run(client, seller.headers, kind="listing", product_id=p["product_id"])
    assert "DATA-004" in rule_ids(denied.json())
    mandate = await client.post(
        "/v1/compliance/mandates",
        headers=operator,
        json={
            "resource_id": p["resource_id"],
            "operator_id": seller.participant_id,
            "purposes": ["commercial_analytics", "risk_control"],
            "conditions": "desensitised only",
            "revenue_share": "0.30",
            "document": "吉政数授〔2026〕1号",
            "valid_from": (now() - timedelta(days=1)).isoformat(),
            "valid_to": (now() + timedelta(days=365)).isoformat(),
        },
    )
    assert mandate.status_code == 201, mandate.text
    allowed = await dry_run(client, seller.headers, kind="listing", product_id=p["product_id"])
    assert "DATA-004" not in rule_ids(allowed.json())
    not_operator = await client.post(
        "/v1/compliance/mandates", headers=seller.headers, json={"resource_id": p["resource_id"]}
    )
    assert not_operator.status_code in (403, 422)


async def test_personal_data_abroad_needs_an_assessment(api: Api, client: Any, app: Any) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    consent = {
        "purposes": ["risk_control"],
        "covers_onward_transfer": True,
        "separate_consent_for_sensitive": False,
    }
    p = await listed_product(
        app,
        seller.participant_id,
        category="personal",
        personal_info="identifiable",
        consent=consent,
        territory="cross_border",
    )
    trade = {
        "kind": "trade",
        "product_id": p["product_id"],
        "purpose": "risk_control",
        "scenario": "credit risk scoring",
        "cross_border": True,
    }
    abroad = await dry_run(client, buyer.headers, **trade)
    assert "TRADE-006" in rule_ids(abroad.json()) and abroad.json()["outcome"] == "deny"
    recorded = await client.post(
        "/v1/compliance/security-assessments",
        headers=operator,
        json={
            "recipient_id": buyer.participant_id,
            "resource_id": p["resource_id"],
            "reference": "CAC-2026-0042",
            "valid_until": (now() + timedelta(days=90)).isoformat(),
        },
    )
    assert recorded.status_code == 201, recorded.text
    assessed = await dry_run(client, buyer.headers, **trade)
    assert "TRADE-006" not in rule_ids(assessed.json())


async def test_dry_run_and_real_gate_agree_and_gate_is_stored_and_audited(
    api: Api, client: Any, app: Any
) -> None:
    seller, buyer = await api.org(), await api.org(roles=("buyer",))
    operator = await api.staff("operator")
    cases: list[dict[str, Any]] = [
        {"grade": "important"},
        {"category": "personal", "personal_info": "de_identified"},
        {"trade_secret": True},
        {},
    ]
    for resource in cases:
        p = await listed_product(app, seller.participant_id, **resource)
        trade = {"kind": "trade", "product_id": p["product_id"], "purpose": "risk_control"}
        trade["scenario"] = "credit risk scoring"
        # The whole decision as an operator sees it; the buyer sees the same outcome (and only
        # what it may see of the seller's product: issue 18, finding 10).
        dry = (await dry_run(client, operator, **trade, buyer_id=buyer.participant_id)).json()
        own = (await dry_run(client, buyer.headers, **trade)).json()
        assert own["outcome"] == dry["outcome"]
        assert set(own["facts"]["listing"]) == {"product_id", "declared_scenarios"}
        async with app.state.sessionmaker() as session, session.begin():
            product = await session.get(Product, __import__("uuid").UUID(p["product_id"]))
            assert product is not None
            row = await service.gate_trade(
                session,
                product=compliance_subject(product),
                buyer_id=__import__("uuid").UUID(buyer.participant_id),
                purpose="risk_control",
                scenario="credit risk scoring",
                cross_border=False,
                actor="test",
                subject_type="quote",
                subject_id="q-1",
            )
            assert row.outcome == dry["outcome"], resource
            assert [f["rule_id"] for f in row.findings] == [f["rule_id"] for f in dry["findings"]]
    history = await client.get("/v1/compliance/decisions?subject_id=q-1", headers=operator)
    assert len(history.json()["items"]) == len(cases)
    pending = await client.get("/v1/compliance/reviews", headers=operator)
    assert {d["outcome"] for d in pending.json()["items"]} == {"needs_review"}
    assert (await client.get("/v1/compliance/reviews", headers=buyer.headers)).status_code == 403
    async with app.state.sessionmaker() as s:
        audited = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "compliance.decided")
        )
    assert audited == len(cases)
