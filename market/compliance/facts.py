"""The facts a compliance decision rests on.

The service gathers these from its tables (resources, registrations, right grants,
participants, licence templates) and hands them to the pure rule set in
`market.compliance.rules`. Every model is frozen and refuses unknown fields, so a
decision's facts snapshot is exactly what the rules saw.

`None` means "unknown". The rules never read an unknown as permissive: where a rule
needs a value that is `None`, it denies with "missing fact <path>". Only the optional
sub-records `consent` and `authorised_operation` use `None` for "there is none", which the
rules treat just as restrictively (no consent, no mandate).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from market.common.vocabulary import KNOWN_PURPOSES, PurposeName  # noqa: F401  (re-exported)

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Scenario = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

Category = Literal["public", "enterprise", "personal"]  # Art. 21
Grade = Literal["general", "important", "core"]  # Art. 82, GB/T 43697-2024
OpenClass = Literal["unconditional", "conditional", "not_open"]  # Art. 32, 35
PersonalInfo = Literal["identifiable", "de_identified", "anonymised"]  # Art. 21, PIPL Art. 73
CreditStatus = Literal["good", "watch", "blacklisted"]  # 吉政办发〔2016〕35号
Jurisdiction = Literal["domestic", "foreign"]
Territory = Literal["domestic", "cross_border"]  # same values as contracts.rights.Territory
# Closed on purpose: a misspelt tag must fail validation, not slip past the Art. 52 rule.
# Every tag here marks data the exchange will not trade (2020 Regulation Art. 52,
# 2023 Regulation Art. 63(1), (3)).
SecurityTag = Literal[
    "national_security",
    "public_security",
    "military",
    "state_secret",
    "public_interest",
]
PROHIBITED_SECURITY_TAGS: frozenset[str] = frozenset(get_args(SecurityTag))


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Consent(_Facts):
    """The consent basis recorded for personal data (Art. 43; PIPL Art. 23, 29)."""

    purposes: tuple[PurposeName, ...]
    # Giving personal data to another processor (the buyer) needs its own consent
    # (PIPL Art. 23); re-processing needs fresh consent (Art. 43).
    covers_onward_transfer: bool
    separate_consent_for_sensitive: bool


class AuthorisedOperation(_Facts):
    """A public-data authorised-operation mandate (授权运营, Art. 36)."""

    mandate_id: Identifier
    scope_purposes: tuple[PurposeName, ...]
    valid: bool


class ResourceFacts(_Facts):
    """One data resource a product is built on."""

    resource_id: Identifier
    category: Category | None
    grade: Grade | None
    # Only public data has an open class; `None` on public data is a missing fact.
    open_class: OpenClass | None = None
    # `None` means "not personal data"; on a resource categorised personal it is missing.
    personal_info: PersonalInfo | None = None
    sensitive_personal: bool
    consent: Consent | None = None
    trade_secret: bool
    security_tags: tuple[SecurityTag, ...]
    authorised_operation: AuthorisedOperation | None = None
    # From the current consent record: how many people the data covers, and how many of them
    # with sensitive information (PIPL Art. 28). `None`: no record, so the count is unknown.
    people_covered: int | None = Field(default=None, ge=0)
    sensitive_people_covered: int | None = Field(default=None, ge=0)
    # A person's data must leave the resource first (an upheld consent withdrawal, deletion
    # or personal-information objection not yet carried out).
    personal_data_hold: bool = False

    @model_validator(mode="after")
    def _open_class_is_for_public_data(self) -> Self:
        # Contradictory facts are bad input, not a reason to guess which one is true.
        if self.open_class is not None and self.category not in ("public", None):
            raise ValueError("open_class applies to public data only (Art. 32, 35)")
        return self


class RightFacts(_Facts):
    """What the rights chain says about the seller's operating right (Art. 22)."""

    # True only when the whole grant chain back to the registered holder is valid.
    holds_valid_operating_right: bool | None
    permitted_purposes: tuple[PurposeName, ...] = ()
    territory: Territory | None = None
    chain_failure_reason: str | None = None
    seller_is_registered_holder: bool | None


class ParticipantFacts(_Facts):
    """A seller or buyer as the credit system and registry know them."""

    participant_id: Identifier
    credit: CreditStatus | None
    jurisdiction: Jurisdiction | None


class ListingFacts(_Facts):
    """Everything needed to decide whether a product may be listed (挂牌)."""

    product_id: Identifier
    seller: ParticipantFacts
    resources: tuple[ResourceFacts, ...]
    rights: RightFacts | None
    declared_scenarios: tuple[Scenario, ...]
    # Whether the price plan charges buyers at all; paid public data needs a mandate
    # (Art. 36). Unknown is a missing fact for products containing public data.
    charges_fee: bool | None


class ConditionalOpenApproval(_Facts):
    """An approved application for conditionally open public data (Art. 35)."""

    resource_id: Identifier
    application_id: Identifier
    purposes: tuple[PurposeName, ...]


class ExportVolume(_Facts):
    """What the exporter (the seller) has already provided abroad since 1 January of this year,
    Beijing time: the personal resources sold to foreign recipients or declared cross-border,
    each counted once with the people its current consent record covers (see
    `market.compliance.cross_border` for why this counts people the way it does)."""

    resource_ids: tuple[Identifier, ...]
    people: int = Field(ge=0)
    sensitive_people: int = Field(ge=0)
    # Exported this year but without a consent record: their people cannot be counted.
    uncounted_resource_ids: tuple[Identifier, ...] = ()


class TradeFacts(_Facts):
    """Everything needed to decide whether a buyer may buy a listed product."""

    listing: ListingFacts
    buyer: ParticipantFacts
    purpose: PurposeName | None
    scenario: Scenario | None
    cross_border: bool | None
    # Keyed by resource: an approval covers the resource it was granted for, not the
    # whole product.
    conditional_open_approvals: tuple[ConditionalOpenApproval, ...] = ()
    # Whether every personal resource of the product has, for this buyer, a security
    # assessment in force (Art. 88) / a standard contract or certification on file.
    security_assessment_on_file: bool | None
    standard_contract_on_file: bool | None = None
    exporter_exports_this_year: ExportVolume | None = None
    # From the listing's licence template; unknown is a missing fact.
    licence_permitted_purposes: tuple[PurposeName, ...] | None
