"""ODRL 2.2 (W3C) JSON-LD export of grants and licences.

Gives counterparties and auditors a machine-readable, standard statement of what a right
or licence permits, prohibits and obliges. Output is a plain dict built in a fixed order
with sorted lists, so the same input always serialises to the same JSON (it can be
hashed into the audit log). Identifiers are URNs under `base` (default ``urn:jde:``).

Mapping of our terms onto the ODRL Common Vocabulary:
- purpose → constraint ``purpose isAnyOf [...]`` (values from `contracts.rights.Purpose`)
- domestic territory → ``spatial eq "CN"`` and a prohibition of ``move`` to anywhere
  ``spatial neq "CN"`` (cross-border provision needs a security assessment, Art. 88)
- term → ``dateTime gteq start`` and ``dateTime lteq end``
- quota / volume limit → ``count lteq n``
- redistribution → permission or prohibition of ``distribute``
- onward processing → permission or prohibition of ``derive``; with personal data the
  permission carries an ``obtainConsent`` duty (fresh consent on re-processing, Art. 43)
- licence duties: ``attribute`` the licensor, ``delete`` the data once the term ends
Field limits have no ODRL left operand and are not exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from contracts.errors import ContractError
from contracts.licences import Licence
from contracts.rights import Purpose, RightGrant, RightKind, Territory

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
DOMESTIC_COUNTRY = "CN"

# What the holder of each right may do with the subject, in ODRL actions (Art. 22).
_GRANT_ACTIONS: dict[RightKind, tuple[str, ...]] = {
    RightKind.HOLDING: ("use", "transfer", "grantUse"),
    RightKind.PROCESSING: ("use", "aggregate", "derive", "transform"),
    RightKind.OPERATING: ("use", "sell", "grantUse"),
}

Json = dict[str, Any]


def _time(value: datetime) -> Json:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _constraints(
    purposes: Iterable[Purpose],
    territory: Territory,
    start: datetime,
    end: datetime | None,
    count: int | None,
) -> list[Json]:
    out: list[Json] = [
        {
            "leftOperand": "purpose",
            "operator": "isAnyOf",
            "rightOperand": sorted(p.value for p in purposes),
        }
    ]
    if territory is Territory.DOMESTIC:
        out.append({"leftOperand": "spatial", "operator": "eq", "rightOperand": DOMESTIC_COUNTRY})
    out.append({"leftOperand": "dateTime", "operator": "gteq", "rightOperand": _time(start)})
    if end is not None:
        out.append({"leftOperand": "dateTime", "operator": "lteq", "rightOperand": _time(end)})
    if count is not None:
        out.append({"leftOperand": "count", "operator": "lteq", "rightOperand": count})
    return out


def _export_prohibition(target: str, territory: Territory) -> list[Json]:
    if territory is not Territory.DOMESTIC:
        return []
    return [
        {
            "target": target,
            "action": "move",
            "constraint": [{"leftOperand": "spatial", "operator": "neq", "rightOperand": DOMESTIC_COUNTRY}],
        }
    ]


def grant_to_odrl(grant: RightGrant, *, assigner_id: str | None = None, base: str = "urn:jde:") -> Json:
    """ODRL policy for one right grant.

    A grant out of a parent is an ``Agreement`` between the parent's holder
    (`assigner_id`, required then) and the grant's holder. A root holding right is
    confirmed by registration rather than agreed, so it is a ``Set`` naming the holder.
    """
    if grant.parent_id is not None and assigner_id is None:
        raise ContractError(
            "assigner_required", "assigner_id", "a granted right needs its grantor as assigner"
        )
    target = f"{base}{grant.subject_kind}:{grant.subject_id}"
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
        "@context": ODRL_CONTEXT,
        "@type": "Set" if assigner_id is None else "Agreement",
        "uid": f"{base}grant:{grant.grant_id}",
    }
    if assigner_id is not None:
        policy["assigner"] = f"{base}participant:{assigner_id}"
    policy["assignee"] = f"{base}participant:{grant.holder_id}"
    policy["target"] = target
    policy["permission"] = [
        {
            "target": target,
            "assignee": f"{base}participant:{grant.holder_id}",
            "action": action,
            "constraint": constraints,
        }
        for action in actions
    ]
    if prohibitions:
        policy["prohibition"] = prohibitions
    return policy


def licence_to_odrl(licence: Licence, *, base: str = "urn:jde:") -> Json:
    """ODRL ``Agreement`` for a licence between the licensor and the buyer."""
    target = f"{base}product:{licence.product_id}"
    assigner = f"{base}participant:{licence.licensor_id}"
    assignee = f"{base}participant:{licence.licensee_id}"
    constraints = _constraints(
        licence.purposes, licence.territory, licence.valid_from, licence.valid_to, licence.quota
    )
    duties: list[Json] = [
        {"action": "attribute", "target": target, "attributedParty": assigner},
        {
            "action": "delete",
            "target": target,
            "constraint": [
                {
                    "leftOperand": "dateTime",
                    "operator": "gteq",
                    "rightOperand": _time(licence.valid_to),
                }
            ],
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
    prohibitions.extend(_export_prohibition(target, licence.territory))

    return {
        "@context": ODRL_CONTEXT,
        "@type": "Agreement",
        "uid": f"{base}licence:{licence.licence_id}",
        "assigner": assigner,
        "assignee": assignee,
        "target": target,
        "permission": permissions,
        "prohibition": prohibitions,
    }
