"""Checks that apply from listing onwards (they run again at every trade).

Each check is a pure function `(listing, trade | None) -> Hit | None`: `None` when the
rule has nothing to say, a `Hit` when it fires or cannot be decided for lack of facts.
Rule ids, articles, outcomes and messages live in the registry in
`market.compliance.rules`; these functions only say *whether* and *where*.

Every check reports the facts it needs itself, even when another rule needs the same
fact: a rule's verdict must never depend on some other rule happening to deny.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from market.compliance.facts import (
    PROHIBITED_SECURITY_TAGS,
    ListingFacts,
    PersonalInfo,
    ResourceFacts,
    TradeFacts,
)


@dataclass(frozen=True)
class Hit:
    """A check fired (`missing` empty) or could not decide (`missing` names the facts)."""

    details: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


Check = Callable[[ListingFacts, TradeFacts | None], Hit | None]


class Tally:
    """Collects, across a product's resources, which ones fire and which facts are missing.

    One finding per rule (not per resource) keeps the decision readable while the
    details still name every resource involved.
    """

    def __init__(self) -> None:
        self.resource_ids: list[str] = []
        self.reasons: dict[str, str] = {}
        self.missing_facts: list[str] = []
        self.extra: dict[str, Any] = {}

    def hit(self, resource: ResourceFacts, reason: str | None = None) -> None:
        if resource.resource_id not in self.resource_ids:
            self.resource_ids.append(resource.resource_id)
        if reason is not None:
            self.reasons.setdefault(resource.resource_id, reason)

    def missing(self, fact: str) -> None:
        if fact not in self.missing_facts:
            self.missing_facts.append(fact)

    def result(self) -> Hit | None:
        if not (self.resource_ids or self.missing_facts):
            return None
        details: dict[str, Any] = dict(self.extra)
        if self.resource_ids:
            details["resource_ids"] = list(self.resource_ids)
        if self.reasons:
            details["reasons"] = dict(self.reasons)
        if self.missing_facts:
            details["missing_facts"] = list(self.missing_facts)
        return Hit(details=details, missing=tuple(self.missing_facts))


def path(resource: ResourceFacts, name: str) -> str:
    return f"resources[{resource.resource_id}].{name}"


def personal_state(r: ResourceFacts) -> PersonalInfo | Literal["not_personal"] | None:
    """How a resource stands as personal information; `None` when that is unknown.

    Without `personal_info`, a resource is taken as not personal only when its category
    says so and it is not flagged sensitive: anything else would read silence as consent.
    """
    if r.personal_info is not None:
        return r.personal_info
    if r.category in (None, "personal") or r.sensitive_personal:
        return None
    return "not_personal"


# --- Grade (Art. 82) -------------------------------------------------------------------


def _grade_is(grade: str) -> Check:
    def check(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
        t = Tally()
        for r in listing.resources:
            if r.grade is None:
                t.missing(path(r, "grade"))
            elif r.grade == grade:
                t.hit(r)
        return t.result()

    return check


core_data = _grade_is("core")
important_data = _grade_is("important")


# --- Public data (Art. 35, 36) ---------------------------------------------------------


def not_open_public_data(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        if r.category is None:
            t.missing(path(r, "category"))
        elif r.category == "public" and r.open_class is None:
            t.missing(path(r, "open_class"))
        elif r.category == "public" and r.open_class == "not_open":
            t.hit(r)
    return t.result()


def paid_public_data_without_mandate(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        if r.category is None:
            t.missing(path(r, "category"))
            continue
        if r.category != "public":
            continue
        if listing.charges_fee is None:
            t.missing("listing.charges_fee")
            continue
        if not listing.charges_fee:
            continue
        mandate = r.authorised_operation
        if mandate is None:
            t.hit(r, "no_authorised_operation_mandate")
        elif not mandate.valid:
            t.hit(r, "mandate_not_valid")
        elif trade is not None:
            # The mandate's scope binds every sale made under it (Art. 36).
            if trade.purpose is None:
                t.missing("purpose")
            elif trade.purpose not in mandate.scope_purposes:
                t.hit(r, "purpose_outside_mandate_scope")
    return t.result()


# --- Personal information (Art. 21, 43; PIPL Art. 23, 28, 29) --------------------------


def personal_data_without_consent(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        state = personal_state(r)
        if state is None:
            t.missing(path(r, "personal_info"))
            continue
        if state != "identifiable":
            continue
        consent = r.consent
        if consent is None:
            t.hit(r, "no_consent")
        elif not consent.covers_onward_transfer:
            # Selling hands the data to another processor: PIPL Art. 23 consent.
            t.hit(r, "consent_does_not_cover_onward_transfer")
        elif not consent.purposes:
            t.hit(r, "consent_names_no_purpose")
        elif trade is not None:
            if trade.purpose is None:
                t.missing("purpose")
            elif trade.purpose not in consent.purposes:
                t.hit(r, "purpose_outside_consent")
    return t.result()


def sensitive_without_separate_consent(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        if not r.sensitive_personal:
            continue
        state = personal_state(r)
        if state is None:
            t.missing(path(r, "personal_info"))
        elif state in ("identifiable", "de_identified"):
            # De-identified data is still personal information (PIPL Art. 73); only
            # anonymisation lifts the separate-consent duty.
            if r.consent is None or not r.consent.separate_consent_for_sensitive:
                t.hit(r, "no_separate_consent")
    return t.result()


def _personal_state_is(wanted: PersonalInfo, report_missing: bool) -> Check:
    def check(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
        t = Tally()
        for r in listing.resources:
            state = personal_state(r)
            if state is None and report_missing:
                t.missing(path(r, "personal_info"))
            elif state == wanted:
                t.hit(r)
        return t.result()

    return check


de_identified_personal_data = _personal_state_is("de_identified", report_missing=True)
# A note never asks for facts: an unknown state is already denied by the rules above.
anonymised_data_note = _personal_state_is("anonymised", report_missing=False)


# --- Trade secrets and security (2020 Regulation Art. 52; 2023 Art. 63) ----------------


def trade_secret_without_holder_right(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in (r for r in listing.resources if r.trade_secret):
        rights = listing.rights
        if rights is None:
            t.missing("rights")
        elif rights.seller_is_registered_holder is True:
            continue
        elif rights.holds_valid_operating_right is True:
            continue  # sold under the holder's own grant; DATA-010 sends it to review
        elif rights.seller_is_registered_holder is None:
            t.missing("rights.seller_is_registered_holder")
        elif rights.holds_valid_operating_right is None:
            t.missing("rights.holds_valid_operating_right")
        else:
            t.hit(r, "seller_neither_holder_nor_grantee")
    return t.result()


def trade_secret_resold_by_grantee(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in (r for r in listing.resources if r.trade_secret):
        rights = listing.rights
        if rights is None:
            t.missing("rights")
        elif rights.seller_is_registered_holder is None:
            t.missing("rights.seller_is_registered_holder")
        elif rights.seller_is_registered_holder is False and rights.holds_valid_operating_right:
            t.hit(r, "seller_is_grantee_not_holder")
    return t.result()


def security_tagged_data(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        tags = sorted(set(r.security_tags) & PROHIBITED_SECURITY_TAGS)
        if tags:
            t.hit(r)
            t.extra.setdefault("tags", {})[r.resource_id] = tags
    return t.result()


# --- Participants (吉政办发〔2016〕35号) ---------------------------------------------------


def _seller_credit_is(status: str) -> Check:
    def check(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
        if listing.seller.credit is None:
            return Hit(missing=("seller.credit",))
        if listing.seller.credit == status:
            return Hit(details={"participant_id": listing.seller.participant_id})
        return None

    return check


seller_blacklisted = _seller_credit_is("blacklisted")
seller_on_watch = _seller_credit_is("watch")


# --- The listing itself (Art. 22, 62, 63(2); exchange practice) -------------------------


def no_valid_operating_right(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    rights = listing.rights
    if rights is None:
        return Hit(missing=("rights",))
    if rights.holds_valid_operating_right is None:
        return Hit(missing=("rights.holds_valid_operating_right",))
    if rights.holds_valid_operating_right:
        return None
    return Hit(details={"chain_failure_reason": rights.chain_failure_reason})


def no_declared_scenario(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    return None if listing.declared_scenarios else Hit()


def no_resources(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    return None if listing.resources else Hit()


def personal_data_on_hold(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = Tally()
    for r in listing.resources:
        if r.personal_data_hold:
            t.hit(r, "a person's data must be removed first")
    return t.result()
