"""ODRL 2.2 (W3C) export of offers, licences and grants.

Gives counterparties and auditors a machine-readable, standard statement of what a listing
offers, and what a licence or a right permits, prohibits and obliges. Each function returns
the policy as a JSON-LD node without its `@context`: the service puts it in a document whose
inline context holds `contracts.odrl_terms.ODRL_TERMS` and binds `mkt`, `xsd`, `prov` and
`dct`. Output is built in a fixed order with sorted lists, so the same input always
serialises to the same JSON. Every object is named by its IRI under the exchange's one
identifier scheme (`Identifiers`): the policy's `uid`, its target (the dataset), its parties.

Mapping of our terms onto the ODRL Common Vocabulary:
- purpose → constraint ``purpose isAnyOf (list)`` of the exchange's purpose concepts
- domestic territory → ``spatial eq`` China (a place IRI) and a prohibition of ``move`` to
  anywhere ``spatial neq`` China (cross-border provision needs a security assessment, Art. 88)
- term → ``dateTime gteq start`` and ``dateTime lteq end`` (an offer: ``elapsedTime lteq PnD``)
- quota / volume limit → ``count lteq n``
- redistribution → permission or prohibition of ``distribute``
- onward processing → permission or prohibition of ``derive``; with personal data the
  permission carries an ``obtainConsent`` duty (fresh consent on re-processing, Art. 43)
- licence duties: ``attribute`` the licensor, ``delete`` the data once the term ends
- an offer's price → a ``compensate`` duty, ``payAmount gteq`` the lowest price, in its currency
- the three rights (Art. 22) → ``mkt:rightKind``; a licence's operating right → ``mkt:restsOn``
Field limits have no ODRL left operand and are not exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.errors import ContractError
from contracts.licences import Licence, LicenceTemplate
from contracts.odrl_terms import CHINA, CURRENCY_TABLE, Identifiers, profile_term
from contracts.rights import Purpose, RightGrant, RightKind, Territory

# What the holder of each right may do with the subject, in ODRL actions (Art. 22).
_GRANT_ACTIONS: dict[RightKind, tuple[str, ...]] = {
    RightKind.HOLDING: ("use", "transfer", "grantUse"),
    RightKind.PROCESSING: ("use", "aggregate", "derive", "transform"),
    RightKind.OPERATING: ("use", "sell", "grantUse"),
}

Json = dict[str, Any]


@dataclass(frozen=True)
class OfferPrice:
    """What a listing costs at least (the plan's lowest price), and how its plan prices."""

    lowest: Decimal
    currency: str
    plan_kind: str


def _time(value: datetime) -> Json:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _constraint(left: str, operator: str, right: Any) -> Json:
    return {"leftOperand": left, "operator": operator, "rightOperand": right}


def _purposes(purposes: Iterable[Purpose]) -> Json:
    # A set-based operator takes one right operand that is a list (ODRL 2.2 `rightOperand`).
    return _constraint(
        "purpose",
        "isAnyOf",
        {"@list": [{"@id": profile_term("purpose", p.value)} for p in sorted(purposes)]},
    )


def _territory(territory: Territory) -> list[Json]:
    if territory is not Territory.DOMESTIC:
        return []
    return [_constraint("spatial", "eq", {"@id": CHINA})]


def _constraints(
    purposes: Iterable[Purpose],
    territory: Territory,
    start: datetime,
    end: datetime | None,
    count: int | None,
) -> list[Json]:
    out = [_purposes(purposes), *_territory(territory)]
    out.append(_constraint("dateTime", "gteq", _time(start)))
    if end is not None:
        out.append(_constraint("dateTime", "lteq", _time(end)))
    if count is not None:
        out.append(_constraint("count", "lteq", count))
    return out


def _export_prohibition(target: str, territory: Territory, assignee: str | None = None) -> list[Json]:
    if territory is not Territory.DOMESTIC:
        return []
    rule: Json = {"target": target, "action": "move"}
    if assignee is not None:
        rule["assignee"] = assignee
    rule["constraint"] = [_constraint("spatial", "neq", {"@id": CHINA})]
    return [rule]


def _subject(ids: Identifiers, grant: RightGrant) -> str:
    if grant.subject_kind == "product":
        return ids.product(grant.subject_id)
    return ids.resource(grant.subject_id)


def grant_to_odrl(grant: RightGrant, ids: Identifiers, *, assigner_id: str | None = None) -> Json:
    """ODRL policy for one right grant.

    A grant out of a parent is an ``Agreement`` between the parent's holder
    (`assigner_id`, required then) and the grant's holder. A root holding right is
    confirmed by registration rather than agreed, so it is a ``Set`` naming the holder.
    """
    if grant.parent_id is not None and assigner_id is None:
        raise ContractError(
            "assigner_required", "assigner_id", "a granted right needs its grantor as assigner"
        )
    target = _subject(ids, grant)
    holder = ids.participant(grant.holder_id)
    # valid_to and revocation both end the right; export the earlier as the term end.
    ends = [t for t in (grant.valid_to, grant.revoked_at) if t is not None]
    end = min(ends) if ends else None
    constraints = _constraints(
        grant.scope.purposes, grant.scope.territory, grant.valid_from, end, grant.scope.volume_limit
    )
    actions = list(_GRANT_ACTIONS[grant.kind])
    prohibitions = _export_prohibition(target, grant.scope.territory)
    if grant.kind is RightKind.PROCESSING and not grant.scope.sublicensable:
        prohibitions.append({"target": target, "action": "grantUse"})
    elif grant.kind is RightKind.PROCESSING:
        actions.append("grantUse")

    policy: Json = {
        "uid": ids.grant(grant.grant_id),
        "@type": "Set" if assigner_id is None else "Agreement",
        "profile": ids.vocabulary,
        "mkt:rightKind": {"@id": profile_term("right", grant.kind.value)},
    }
    if grant.registration_id is not None:
        policy["mkt:registration"] = {"@id": ids.registration(grant.registration_id)}
    if assigner_id is not None:
        policy["assigner"] = ids.participant(assigner_id)
    policy["assignee"] = holder
    policy["target"] = target
    policy["permission"] = [
        {"target": target, "assignee": holder, "action": action, "constraint": constraints}
        for action in actions
    ]
    if prohibitions:
        policy["prohibition"] = prohibitions
    return policy


def licence_to_odrl(licence: Licence, ids: Identifiers) -> Json:
    """ODRL ``Agreement`` for a licence between the licensor and the buyer."""
    target = ids.product(licence.product_id)
    assigner = ids.participant(licence.licensor_id)
    assignee = ids.participant(licence.licensee_id)
    constraints = _constraints(
        licence.purposes, licence.territory, licence.valid_from, licence.valid_to, licence.quota
    )
    duties: list[Json] = [
        {"action": "attribute", "target": target, "attributedParty": assigner},
        {
            "action": "delete",
            "target": target,
            "constraint": [_constraint("dateTime", "gteq", _time(licence.valid_to))],
        },
    ]

    def permission(action: str, duty: list[Json] | None = None) -> Json:
        rule: Json = {
            "target": target,
            "assigner": assigner,
            "assignee": assignee,
            "action": action,
            "constraint": constraints,
        }
        if duty:
            rule["duty"] = duty
        return rule

    permissions = [permission("use", duties)]
    prohibitions: list[Json] = []
    if licence.redistribution_allowed:
        permissions.append(permission("distribute"))
    else:
        prohibitions.append({"target": target, "assignee": assignee, "action": "distribute"})
    if licence.onward_processing_allowed:
        consent = [{"action": "obtainConsent", "target": target}] if licence.contains_personal_data else None
        permissions.append(permission("derive", consent))
    else:
        prohibitions.append({"target": target, "assignee": assignee, "action": "derive"})
    prohibitions.extend(_export_prohibition(target, licence.territory, assignee))

    policy: Json = {
        "uid": ids.licence(licence.licence_id),
        "@type": "Agreement",
        "profile": ids.vocabulary,
        "assigner": assigner,
        "assignee": assignee,
        "target": target,
        "prov:wasDerivedFrom": {"@id": ids.offer(licence.product_id)},
        "mkt:restsOn": {"@id": ids.grant(licence.operating_grant_id)},
    }
    if licence.registration_id is not None:
        policy["mkt:registration"] = {"@id": ids.registration(licence.registration_id)}
    policy["mkt:scenario"] = licence.scenario
    policy["permission"] = permissions
    policy["prohibition"] = prohibitions
    return policy


def offer_to_odrl(
    template: LicenceTemplate,
    ids: Identifiers,
    *,
    product_id: str,
    seller_id: str,
    price: OfferPrice,
) -> Json:
    """ODRL ``Offer`` of a listed product: the terms any buyer's licence is derived from.

    Typed ``Policy`` as well (entailed, but stated, so a validator without ODRL's class
    hierarchy sees the class DCAT-AP asks of `odrl:hasPolicy`) and ``dct:LicenseDocument``
    (the distribution's `dct:license` is this same offer).
    """
    target = ids.product(product_id)
    assigner = ids.participant(seller_id)
    use_constraints = [_purposes(template.permitted_purposes), *_territory(template.territory)]
    use_constraints.append(_constraint("elapsedTime", "lteq", _days(template.term_days)))
    if template.quota is not None:
        use_constraints.append(_constraint("count", "lteq", template.quota))
    amount = {"@value": f"{price.lowest:f}", "@type": "xsd:decimal"}
    pay = _constraint("payAmount", "gteq", amount)
    pay["unit"] = {"@id": f"{CURRENCY_TABLE}{price.currency}"}
    duties: list[Json] = [
        {"action": "compensate", "constraint": [pay]},
        {"action": "attribute", "target": target, "attributedParty": assigner},
        {
            "action": "delete",
            "target": target,
            "constraint": [_constraint("elapsedTime", "eq", _days(template.term_days))],
        },
    ]
    permissions: list[Json] = [
        {
            "target": target,
            "assigner": assigner,
            "action": "use",
            "constraint": use_constraints,
            "duty": duties,
        }
    ]
    prohibitions: list[Json] = []
    for allowed, action in (
        (template.redistribution_allowed, "distribute"),
        (template.onward_processing_allowed, "derive"),
    ):
        if not allowed:
            prohibitions.append({"target": target, "assigner": assigner, "action": action})
            continue
        rule: Json = {"target": target, "assigner": assigner, "action": action, "constraint": use_constraints}
        if action == "derive" and template.contains_personal_data:
            rule["duty"] = [{"action": "obtainConsent", "target": target}]
        permissions.append(rule)
    prohibitions.extend(_export_prohibition(target, template.territory))
    return {
        "uid": ids.offer(product_id),
        "@type": ["Offer", "Policy", "dct:LicenseDocument"],
        "profile": ids.vocabulary,
        "assigner": assigner,
        "target": target,
        "mkt:pricePlanKind": {"@id": profile_term("plan", price.plan_kind)},
        "mkt:scenario": sorted(template.scenarios),
        "permission": permissions,
        "prohibition": prohibitions,
    }


def _days(days: int) -> Json:
    return {"@value": f"P{days}D", "@type": "xsd:duration"}
