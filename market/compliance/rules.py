"""The exchange's compliance rule set: one registry, every rule with its legal source.

不合规不挂牌，无场景不交易 — no compliance, no listing; no usage scenario, no trade.

Each `Rule` has a stable id, the article it rests on, whether it runs at listing, at
trade or both, bilingual messages, the outcome it produces when it fires, and a pure
check over the facts (`rules_listing`, `rules_trade`). A rule that cannot be decided
because a fact is unknown always denies with "missing fact <path>".

Bump rule: any change to the rules below — a rule added, removed or reworded, an outcome
or article changed, or a check's logic changed — bumps `RULESET_VERSION`, so every
stored decision names the rules it was made under. `ruleset_fingerprint()` covers the
table; the unit tests pin it to the version so a table change without a bump fails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from market.compliance import rules_listing as L
from market.compliance import rules_trade as T
from market.compliance.facts import ListingFacts, TradeFacts
from market.compliance.rules_listing import Check

RULESET_VERSION = "2026.1"

FindingOutcome = Literal["deny", "review", "allow-note"]
AppliesTo = Literal["listing", "trade", "both"]

JILIN_2023 = "Jilin Big Data Regulation 2023"
JILIN_2020 = "Jilin Big Data Regulation 2020"
CREDIT_POLICY = "吉政办发〔2016〕35号 (失信黑名单 restricts market access)"
EXCHANGE_PRACTICE = "Exchange practice: 不合规不挂牌，无场景不交易"
CROSS_BORDER = "促进和规范数据跨境流动规定 (CAC 2024) Art. 5, 7, 8"


class Finding(BaseModel):
    """One reason in a decision: which rule, on what legal basis, with what effect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    article: str
    outcome: FindingOutcome
    message_zh: str
    message_en: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    rule_id: str
    article: str
    applies_to: AppliesTo
    outcome: FindingOutcome
    message_zh: str
    message_en: str
    check: Check

    def applies(self, kind: Literal["listing", "trade"]) -> bool:
        return self.applies_to in (kind, "both")

    def evaluate(self, facts: ListingFacts | TradeFacts) -> Finding | None:
        """This rule's finding on `facts`, or `None` when it does not apply or fire."""
        if isinstance(facts, TradeFacts):
            kind: Literal["listing", "trade"] = "trade"
            listing, trade = facts.listing, facts
        else:
            kind, listing, trade = "listing", facts, None
        if not self.applies(kind):
            return None
        hit = self.check(listing, trade)
        if hit is None:
            return None
        if hit.missing:
            # Unknown is never permissive: the rule could not clear the trade, so it denies.
            names = ", ".join(hit.missing)
            return Finding(
                rule_id=self.rule_id,
                article=self.article,
                outcome="deny",
                message_zh=f"缺少事实 {names}（无法判断：{self.message_zh}）",
                message_en=f"missing fact {names} (cannot check: {self.message_en})",
                details={**hit.details, "missing_facts": list(hit.missing)},
            )
        return Finding(
            rule_id=self.rule_id,
            article=self.article,
            outcome=self.outcome,
            message_zh=self.message_zh,
            message_en=self.message_en,
            details=dict(hit.details),
        )


def _rule(
    rule_id: str,
    article: str,
    applies_to: AppliesTo,
    outcome: FindingOutcome,
    zh: str,
    en: str,
    check: Check,
) -> Rule:
    return Rule(rule_id, article, applies_to, outcome, zh, en, check)


# Order is the order findings appear in a decision: the gravest grounds first.
# fmt: off
RULES: tuple[Rule, ...] = (
    # Data content
    _rule("DATA-001", f"{JILIN_2023} Art. 82", "both", "deny",
          "核心数据不得交易。", "Core data may not be traded.", L.core_data),
    _rule("DATA-002", f"{JILIN_2023} Art. 82; Art. 88", "both", "review",
          "重要数据仅限境内交易，且须经运营方审核。",
          "Important data is traded only domestically and only after operator review.",
          L.important_data),
    _rule("DATA-003", f"{JILIN_2023} Art. 35", "both", "deny",
          "不予开放的公共数据不得交易。", "Public data classed not open may not be traded.",
          L.not_open_public_data),
    _rule("DATA-004", f"{JILIN_2023} Art. 36", "both", "deny",
          "有偿提供公共数据须有有效的授权运营协议，且用途在授权范围内。",
          "Public data is sold for a fee only under a valid authorised-operation mandate "
          "whose scope covers the purpose.",
          L.paid_public_data_without_mandate),
    _rule("DATA-005", f"{JILIN_2023} Art. 43; Art. 63(1), 63(2); PIPL Art. 23", "both", "deny",
          "可识别的个人数据须经个人同意，同意须涵盖向他人提供及买方用途。",
          "Identifiable personal data needs consent that covers onward transfer and the "
          "buyer's purpose.",
          L.personal_data_without_consent),
    _rule("DATA-006", "PIPL Art. 28; Art. 29", "both", "deny",
          "敏感个人信息须取得个人的单独同意。",
          "Sensitive personal information needs the person's separate consent.",
          L.sensitive_without_separate_consent),
    _rule("DATA-007", f"{JILIN_2023} Art. 21; Art. 43", "both", "review",
          "去标识化数据仍属个人信息，须经运营方审核。",
          "De-identified data is still personal information and needs operator review.",
          L.de_identified_personal_data),
    _rule("DATA-008", f"{JILIN_2023} Art. 21", "both", "allow-note",
          "匿名化数据不属于个人数据。", "Anonymised data is not personal data.",
          L.anonymised_data_note),
    _rule("DATA-009", f"{JILIN_2020} Art. 52; {JILIN_2023} Art. 63(2)", "both", "deny",
          "涉及商业秘密的数据只能经其持有者的经营权交易。",
          "Trade-secret data is traded only through its holder's operating right.",
          L.trade_secret_without_holder_right),
    _rule("DATA-010", f"{JILIN_2020} Art. 52", "both", "review",
          "非持有者经营涉及商业秘密的数据，须经运营方审核授权范围。",
          "Trade-secret data offered by a grantee rather than its holder needs operator "
          "review of the grant.",
          L.trade_secret_resold_by_grantee),
    _rule("DATA-011", f"{JILIN_2020} Art. 52; {JILIN_2023} Art. 63(1), 63(3)", "both", "deny",
          "涉及国家安全、公共安全、军工科研生产等的数据不得交易。",
          "Data tagged national security, public security, military, state secret or "
          "public interest may not be traded.",
          L.security_tagged_data),
    _rule("DATA-012", f"{JILIN_2023} Art. 41-44; PIPL Art. 15, 47", "both", "deny",
          "个人已撤回同意或要求删除（或个人信息异议成立）的数据，在卖方删除前不得挂牌或交易。",
          "A resource from which a person's data must be removed (consent withdrawn, deletion "
          "requested or a personal-information objection upheld) is not listed or sold until it is.",
          L.personal_data_on_hold),
    # Participants
    _rule("PART-001", CREDIT_POLICY, "both", "deny",
          "失信黑名单上的卖方不得挂牌或交易。",
          "A blacklisted seller may not list or sell.", L.seller_blacklisted),
    _rule("PART-002", CREDIT_POLICY, "both", "review",
          "被关注的卖方须经运营方审核。",
          "A seller on the credit watch list needs operator review.", L.seller_on_watch),
    _rule("PART-003", CREDIT_POLICY, "trade", "deny",
          "失信黑名单上的买方不得购买。", "A blacklisted buyer may not buy.",
          T.buyer_blacklisted),
    _rule("PART-004", CREDIT_POLICY, "trade", "review",
          "被关注的买方须经运营方审核。",
          "A buyer on the credit watch list needs operator review.", T.buyer_on_watch),
    # The listing
    _rule("LIST-001", f"{JILIN_2023} Art. 22; Art. 63(2)", "both", "deny",
          "卖方须持有有效的数据产品经营权。",
          "The seller must hold a valid data-product operating right.",
          L.no_valid_operating_right),
    _rule("LIST-002", EXCHANGE_PRACTICE, "both", "deny",
          "未声明使用场景的产品不得挂牌或交易。",
          "A product with no declared usage scenario may not be listed or traded.",
          L.no_declared_scenario),
    _rule("LIST-003", f"{JILIN_2023} Art. 62", "both", "deny",
          "产品须基于至少一项登记的数据资源。",
          "A product must rest on at least one registered data resource.", L.no_resources),
    # The trade
    _rule("TRADE-001", EXCHANGE_PRACTICE, "trade", "deny",
          "买方的使用场景须为产品已声明的场景。",
          "The buyer's usage scenario must be one the product declares.",
          T.scenario_not_declared),
    _rule("TRADE-002", f"{JILIN_2023} Art. 63(2)", "trade", "deny",
          "买方用途须在许可范围内。",
          "The buyer's purpose must be within the licence's permitted purposes.",
          T.purpose_outside_licence),
    _rule("TRADE-003", f"{JILIN_2023} Art. 22; Art. 63(2)", "trade", "deny",
          "买方用途须在卖方经营权允许的用途内。",
          "The buyer's purpose must be within the seller's operating-right purposes.",
          T.purpose_outside_operating_right),
    _rule("TRADE-004", f"{JILIN_2023} Art. 35", "trade", "deny",
          "有条件开放的公共数据须有经批准且用途相符的申请。",
          "Conditionally open public data needs an approved application for this purpose.",
          T.conditional_public_data_without_approval),
    _rule("TRADE-005", f"{JILIN_2023} Art. 82; Art. 88", "trade", "deny",
          "重要数据不得出境。", "Important data may not be provided abroad.",
          T.important_data_abroad),
    _rule("TRADE-006", f"{JILIN_2023} Art. 88; {CROSS_BORDER}", "trade", "deny",
          "个人信息出境须按当年累计出境人数履行义务：100万人以上或敏感个人信息1万人以上须通过安全评估；"
          "10万人以上或含敏感个人信息须订立标准合同或通过认证。",
          "Personal information provided abroad needs what this year's cumulative export requires: "
          "a security assessment at 1,000,000 people or 10,000 with sensitive information; a "
          "standard contract or certification at 100,000 people or any sensitive information.",
          T.personal_data_abroad_without_required_filing),
    _rule("TRADE-007", f"{JILIN_2023} Art. 63(2); Art. 88", "trade", "deny",
          "跨境交易须在经营权的地域范围内。",
          "A cross-border trade must be within the operating right's territory.",
          T.cross_border_outside_right_territory),
    _rule("TRADE-008", f"{JILIN_2023} Art. 88", "trade", "allow-note",
          "买方为境外主体，本次交易按跨境处理。",
          "The buyer is foreign, so the trade is treated as cross-border.",
          T.foreign_buyer_note),
    _rule("TRADE-009", f"{JILIN_2023} Art. 88; {CROSS_BORDER}", "trade", "allow-note",
          "本次个人信息出境适用的义务（安全评估、标准合同或认证、豁免）及当年累计人数。",
          "The cross-border obligation this export of personal information carries (security "
          "assessment, standard contract or certification, or exempt) and this year's counts.",
          T.cross_border_obligation_note),
)
# fmt: on

RULES_BY_ID: dict[str, Rule] = {r.rule_id: r for r in RULES}
if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - guards edits to the table
    raise RuntimeError("duplicate rule id in RULES")


def rules_for(kind: Literal["listing", "trade"]) -> tuple[Rule, ...]:
    """The rules that run for a listing or a trade, in registry order."""
    return tuple(r for r in RULES if r.applies(kind))


def ruleset_fingerprint() -> str:
    """SHA-256 over the rule table (ids, articles, scope, outcomes, messages)."""
    table = [[r.rule_id, r.article, r.applies_to, r.outcome, r.message_zh, r.message_en] for r in RULES]
    return hashlib.sha256(json.dumps(table, ensure_ascii=False).encode()).hexdigest()
