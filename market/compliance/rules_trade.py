"""Checks that apply only when a buyer buys (see `rules_listing` for the conventions)."""

from __future__ import annotations

from market.compliance.cross_border import (
    ASSESSMENT_PEOPLE,
    ASSESSMENT_SENSITIVE_PEOPLE,
    CONTRACT_PEOPLE,
    CumulativeExport,
    Obligation,
    cumulative_export,
)
from market.compliance.facts import ListingFacts, ResourceFacts, TradeFacts
from market.compliance.rules_listing import Check, Hit, Tally, path, personal_state


def _trade(trade: TradeFacts | None) -> TradeFacts:
    # The registry runs these checks for trades only; a listing reaching one is a
    # wiring bug and must fail loudly rather than pass silently.
    if trade is None:
        raise TypeError("trade rule evaluated without trade facts")
    return trade


def effective_cross_border(trade: TradeFacts) -> tuple[bool | None, tuple[str, ...]]:
    """Whether the trade crosses the border, and which facts are missing if unknown.

    A foreign buyer makes the trade cross-border whatever the flag says: delivery to a
    foreign party is providing data abroad (Art. 88).
    """
    if trade.cross_border is True or trade.buyer.jurisdiction == "foreign":
        return True, ()
    if trade.cross_border is False and trade.buyer.jurisdiction == "domestic":
        return False, ()
    missing = []
    if trade.cross_border is None:
        missing.append("cross_border")
    if trade.buyer.jurisdiction is None:
        missing.append("buyer.jurisdiction")
    return None, tuple(missing)


# --- Buyer (吉政办发〔2016〕35号) ----------------------------------------------------------


def _buyer_credit_is(status: str) -> Check:
    def check(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
        buyer = _trade(trade).buyer
        if buyer.credit is None:
            return Hit(missing=("buyer.credit",))
        if buyer.credit == status:
            return Hit(details={"participant_id": buyer.participant_id})
        return None

    return check


buyer_blacklisted = _buyer_credit_is("blacklisted")
buyer_on_watch = _buyer_credit_is("watch")


# --- Scenario and purpose (exchange practice; Art. 22, 63(2)) --------------------------


def scenario_not_declared(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    scenario = _trade(trade).scenario
    if scenario is None:
        return Hit(missing=("scenario",))
    if scenario in listing.declared_scenarios:
        return None
    return Hit(details={"scenario": scenario, "declared": list(listing.declared_scenarios)})


def purpose_outside_licence(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = _trade(trade)
    missing = []
    if t.purpose is None:
        missing.append("purpose")
    if t.licence_permitted_purposes is None:
        missing.append("licence_permitted_purposes")
    if missing or t.licence_permitted_purposes is None:
        return Hit(missing=tuple(missing))
    if t.purpose in t.licence_permitted_purposes:
        return None
    return Hit(details={"purpose": t.purpose, "permitted": list(t.licence_permitted_purposes)})


def purpose_outside_operating_right(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = _trade(trade)
    missing = []
    if listing.rights is None:
        missing.append("rights")
    if t.purpose is None:
        missing.append("purpose")
    if missing or listing.rights is None:
        return Hit(missing=tuple(missing))
    if t.purpose in listing.rights.permitted_purposes:
        return None
    return Hit(details={"purpose": t.purpose, "permitted": list(listing.rights.permitted_purposes)})


# --- Conditionally open public data (Art. 35) ------------------------------------------


def conditional_public_data_without_approval(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = _trade(trade)
    tally = Tally()
    for r in listing.resources:
        if r.category is None:
            tally.missing(path(r, "category"))
            continue
        if r.category != "public":
            continue
        if r.open_class is None:
            tally.missing(path(r, "open_class"))
            continue
        if r.open_class != "conditional":
            continue
        if t.purpose is None:
            tally.missing("purpose")
            continue
        approvals = [a for a in t.conditional_open_approvals if a.resource_id == r.resource_id]
        if not approvals:
            tally.hit(r, "no_approved_application")
        elif not any(t.purpose in a.purposes for a in approvals):
            tally.hit(r, "purpose_outside_approved_application")
    return tally.result()


# --- Cross-border (Art. 82, 88) --------------------------------------------------------


def important_data_abroad(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = _trade(trade)
    tally = Tally()
    for r in listing.resources:
        if r.grade is None:
            tally.missing(path(r, "grade"))
        elif r.grade == "important":
            abroad, missing = effective_cross_border(t)
            for fact in missing:
                tally.missing(fact)
            if abroad:
                # Stricter than Art. 88 alone: the exchange keeps important data at home
                # even with an assessment, so it never has to judge the assessment itself.
                tally.hit(r)
    return tally.result()


def _exporting(listing: ListingFacts, trade: TradeFacts, tally: Tally) -> list[ResourceFacts]:
    """The personal resources this trade provides abroad; facts missing to tell go to `tally`."""
    personal = []
    for r in listing.resources:
        state = personal_state(r)
        if state is None:
            tally.missing(path(r, "personal_info"))
        elif state in ("identifiable", "de_identified"):
            personal.append(r)
    if not personal:
        return []
    abroad, missing = effective_cross_border(trade)
    for fact in missing:
        tally.missing(fact)
    return personal if abroad else []


def _this_years_export(
    trade: TradeFacts, exporting: list[ResourceFacts]
) -> CumulativeExport | tuple[str, ...]:
    headcounts = {r.resource_id: path(r, "people_covered") for r in exporting}
    return cumulative_export(trade.exporter_exports_this_year, exporting, headcounts)


def personal_data_abroad_without_required_filing(
    listing: ListingFacts, trade: TradeFacts | None
) -> Hit | None:
    t = _trade(trade)
    tally = Tally()
    exporting = _exporting(listing, t, tally)
    if not exporting:
        return tally.result()
    if t.security_assessment_on_file is None:
        tally.missing("security_assessment_on_file")
        return tally.result()
    if t.security_assessment_on_file:
        return tally.result()  # an assessment in force covers any volume
    export = _this_years_export(t, exporting)
    if isinstance(export, tuple):
        for fact in export:
            tally.missing(fact)
        return tally.result()
    tally.extra.update(
        obligation=str(export.obligation),
        people_this_year=export.people,
        sensitive_people_this_year=export.sensitive_people,
    )
    if export.obligation == Obligation.SECURITY_ASSESSMENT:
        for r in exporting:
            tally.hit(r, "security_assessment_required")
    elif export.obligation == Obligation.STANDARD_CONTRACT_OR_CERTIFICATION:
        if t.standard_contract_on_file is None:
            tally.missing("standard_contract_on_file")
        elif not t.standard_contract_on_file:
            for r in exporting:
                tally.hit(r, "standard_contract_or_certification_required")
    return tally.result()


def cross_border_obligation_note(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    """Which obligation this export carries (a note: TRADE-006 asks for the facts it needs)."""
    t = _trade(trade)
    exporting = _exporting(listing, t, Tally())
    export = _this_years_export(t, exporting) if exporting else None
    if export is None or isinstance(export, tuple):
        return None
    return Hit(
        details={
            "obligation": str(export.obligation),
            "people_this_year": export.people,
            "sensitive_people_this_year": export.sensitive_people,
            "thresholds": {
                "security_assessment": (
                    f">= {ASSESSMENT_PEOPLE} people or >= {ASSESSMENT_SENSITIVE_PEOPLE} sensitive"
                ),
                "standard_contract_or_certification": f">= {CONTRACT_PEOPLE} people or any sensitive",
                "exempt": f"< {CONTRACT_PEOPLE} people, none sensitive",
            },
            "security_assessment_on_file": t.security_assessment_on_file,
            "standard_contract_on_file": t.standard_contract_on_file,
        }
    )


def cross_border_outside_right_territory(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    abroad, missing = effective_cross_border(_trade(trade))
    if abroad is None:
        return Hit(missing=missing)
    if not abroad:
        return None
    if listing.rights is None:
        return Hit(missing=("rights",))
    if listing.rights.territory is None:
        return Hit(missing=("rights.territory",))
    if listing.rights.territory == "cross_border":
        return None
    return Hit(details={"territory": listing.rights.territory})


def foreign_buyer_note(listing: ListingFacts, trade: TradeFacts | None) -> Hit | None:
    t = _trade(trade)
    if t.buyer.jurisdiction == "foreign" and t.cross_border is not True:
        return Hit(details={"declared_cross_border": t.cross_border})
    return None
