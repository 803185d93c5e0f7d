"""Licence templates and the licences derived from them for a buyer.

A licence is what a buyer receives when it purchases a listed product. It rests on the
seller's operating right (数据产品经营权, Art. 22) and can never give more than that right
holds: a trade beyond the rights holder's authorisation is prohibited (Art. 63(2)).
It names one stated purpose and scenario; using the data for another purpose needs a new
licence, and for personal data re-processing needs the person's fresh consent (Art. 43).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contracts.chains import ChainValidity
from contracts.errors import ContractError
from contracts.rights import (
    Purpose,
    RightGrant,
    RightKind,
    Territory,
    parse_purpose,
    parse_purposes,
)

PartialRefundEffect = Literal["reduce", "end"]


class LicenceTemplate(BaseModel):
    """The standard terms a seller lists a product with (Art. 67: standardised services)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    permitted_purposes: frozenset[Purpose] = Field(min_length=1)
    scenarios: tuple[str, ...] = Field(min_length=1)  # "no scenario, no trade"
    term_days: int = Field(ge=1)
    territory: Territory = Territory.DOMESTIC
    redistribution_allowed: bool = False
    onward_processing_allowed: bool = False
    quota: int | None = Field(default=None, ge=1)  # records or calls over the term
    contains_personal_data: bool = False  # drives the Art. 43 consent duty
    # What a partial refund does to the licence: "reduce" its quota (or, without a quota, its
    # term) in proportion to what the buyer keeps paid, or "end" it.
    on_partial_refund: PartialRefundEffect = "reduce"

    @field_validator("permitted_purposes", mode="before")
    @classmethod
    def _known_purposes(cls, value: Any) -> frozenset[Purpose]:
        return parse_purposes(value, "template.permitted_purposes")

    @field_validator("scenarios")
    @classmethod
    def _clean_scenarios(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(s.strip() for s in value)
        if any(not s for s in cleaned):
            raise ValueError("scenarios must not be blank")
        return cleaned


class Licence(BaseModel):
    """The terms one buyer holds for one product. All bounds already clipped to the right.

    `chain` is the operating right's chain root-first, so the licence carries its own
    provenance back to the registration (Art. 62). `adjustments` records every term
    that was narrowed from the template to fit the operating right.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    licence_id: str = Field(min_length=1)
    product_id: str
    licensor_id: str
    licensee_id: str
    operating_grant_id: str
    registration_id: str | None
    chain: tuple[str, ...]
    purposes: frozenset[Purpose]
    scenario: str
    territory: Territory
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    redistribution_allowed: bool
    onward_processing_allowed: bool
    quota: int | None
    field_limits: frozenset[str] | None
    contains_personal_data: bool
    adjustments: tuple[str, ...] = ()
    on_partial_refund: PartialRefundEffect = "reduce"


def derive_licence(
    template: LicenceTemplate,
    operating_grant: RightGrant,
    chain_validity: ChainValidity,
    buyer_id: str,
    product_id: str,
    purpose: Purpose | str,
    scenario: str,
    start: datetime,
    *,
    licence_id: str,
) -> Licence:
    """Derive the buyer's licence from `template`, bounded by `operating_grant`.

    Refuses with `ContractError` when the operating right's chain is invalid, the grant
    is not an operating right over `product_id` in force at `start`, or the purpose or
    scenario is not offered. Otherwise narrows the template to the right: term clipped to
    the grant's end, territory to the grant's, quota to its volume limit, redistribution
    only if the grant is sublicensable (a buyer passing data on is a sublicence).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ContractError("naive_datetime", "start", "times must be timezone-aware (UTC)")
    g = operating_grant
    if chain_validity.grant_id != g.grant_id:
        raise ContractError("chain_mismatch", "chain_validity", "validity was computed for another grant")
    if not chain_validity.valid:
        raise ContractError(
            "chain_invalid",
            "operating_grant",
            f"the operating right's chain is invalid at {chain_validity.failing_grant_id!r} "
            f"({chain_validity.reason}): {chain_validity.message} — no trade without the "
            "lawful rights holder's authorisation (Art. 63(2))",
        )
    if g.kind is not RightKind.OPERATING:
        raise ContractError(
            "not_operating_right",
            "operating_grant",
            f"licences rest on an operating right (数据产品经营权), not {g.kind.value} (Art. 22)",
        )
    if g.subject_id != product_id:
        raise ContractError(
            "product_mismatch",
            "product_id",
            f"the operating right covers product {g.subject_id!r}, not {product_id!r} (Art. 22)",
        )
    if not g.is_active(start):
        raise ContractError(
            "right_not_in_force",
            "start",
            "the operating right is not in force at the licence start (Art. 63(2))",
        )
    wanted = parse_purpose(purpose)
    if wanted not in template.permitted_purposes:
        raise ContractError(
            "purpose_not_offered",
            "purpose",
            f"purpose {wanted.value!r} is not among the listing's permitted purposes; the "
            "seller has not authorised that use (Art. 63(2)), and re-purposing personal data "
            "needs fresh consent (Art. 43)",
        )
    if wanted not in g.scope.purposes:
        raise ContractError(
            "purpose_outside_right",
            "purpose",
            f"purpose {wanted.value!r} is outside the seller's operating right; the holder "
            "has not authorised it (Art. 22, Art. 63(2))",
        )
    if scenario.strip() not in template.scenarios:
        raise ContractError(
            "scenario_not_offered",
            "scenario",
            f"scenario {scenario!r} is not among the listing's declared scenarios; no declared "
            "scenario, no trade (Art. 63(2))",
        )

    adjustments: list[str] = []
    end = start + timedelta(days=template.term_days)
    for limit, label in ((g.valid_to, "operating right's end"), (g.revoked_at, "revocation")):
        if limit is not None and limit < end:
            end = limit
            adjustments.append(f"term clipped to the {label} {limit.isoformat()}")
    territory = template.territory
    if not g.scope.territory.covers(territory):
        territory = g.scope.territory
        adjustments.append("territory narrowed to the operating right's (domestic)")
    quota = template.quota
    limit_volume = g.scope.volume_limit
    if limit_volume is not None and (quota is None or quota > limit_volume):
        quota = limit_volume
        adjustments.append(f"quota capped at the operating right's volume limit {limit_volume}")
    redistribution = template.redistribution_allowed and g.scope.sublicensable
    if template.redistribution_allowed and not redistribution:
        adjustments.append("redistribution removed: the operating right is not sublicensable")

    return Licence(
        licence_id=licence_id,
        product_id=product_id,
        licensor_id=g.holder_id,
        licensee_id=buyer_id,
        operating_grant_id=g.grant_id,
        registration_id=chain_validity.registration_id,
        chain=chain_validity.chain,
        purposes=frozenset({wanted}),
        scenario=scenario.strip(),
        territory=territory,
        valid_from=start,
        valid_to=end,
        redistribution_allowed=redistribution,
        onward_processing_allowed=template.onward_processing_allowed,
        quota=quota,
        field_limits=g.scope.field_limits,
        contains_personal_data=template.contains_personal_data,
        adjustments=tuple(adjustments),
        on_partial_refund=template.on_partial_refund,
    )


def unused_share(
    *, valid_from: datetime, valid_to: datetime, quota: int | None, used: int, at: datetime
) -> Fraction:
    """The part of a licence its buyer has not had yet at `at`, in [0, 1]: of its quota when it
    has one (what was bought is a number of calls or records), else of its term. A licence cut
    short before its end is refunded this share of what is still paid for it (pro rata)."""
    if at >= valid_to:
        return Fraction(0)
    if quota is not None:
        return Fraction(max(0, quota - used), quota) if quota > 0 else Fraction(0)
    if at <= valid_from:
        return Fraction(1)
    micro = timedelta(microseconds=1)
    return Fraction((valid_to - at) // micro, (valid_to - valid_from) // micro)


def reduced_licence(issued: Licence, kept: Fraction) -> Licence:
    """The licence as issued, scaled to the share `kept` (in [0, 1]) of its price the buyer still
    pays after partial refunds: its quota when it has one, else its term, in proportion (quota
    rounded down, term to the microsecond below). Always computed from the issued terms, so
    successive refunds never compound their rounding."""
    if not 0 <= kept <= 1:
        raise ContractError("share_out_of_range", "kept", "the share kept must be between 0 and 1")
    if kept == 1:
        return issued
    if issued.quota is not None:
        quota = issued.quota * kept.numerator // kept.denominator
        note = f"quota reduced from {issued.quota} to {quota}: {kept} of the price is still paid"
        return issued.model_copy(update={"quota": quota, "adjustments": (*issued.adjustments, note)})
    term = issued.valid_to - issued.valid_from
    micros = (term // timedelta(microseconds=1)) * kept.numerator // kept.denominator
    end = issued.valid_from + timedelta(microseconds=micros)
    note = f"term shortened to end {end.isoformat()}: {kept} of the price is still paid"
    return issued.model_copy(update={"valid_to": end, "adjustments": (*issued.adjustments, note)})
