"""The words ODRL documents are written in: ODRL 2.2 terms, the exchange's profile, and IRIs.

`ODRL_TERMS` are the term definitions of the official ODRL JSON-LD context
(http://www.w3.org/ns/odrl.jsonld) for every term this library writes, copied unchanged, so a
document reads exactly like one using the official context while its context stays inline:
anyone can turn it into RDF offline, without fetching a remote context. A test compares each
definition with the published context file.

The exchange's own terms (its purposes, the three rights of Art. 22) are concepts of its ODRL
profile, written as compact IRIs with the prefix `mkt`; the document's context binds `mkt` to the
exchange's vocabulary namespace (`market.common.iris`), as it binds `xsd` and `prov`.
Objects (products, participants, licences, ...) are named by an `Identifiers` the caller passes,
so that every document of the exchange uses its one identifier scheme.
"""

from __future__ import annotations

from typing import Any, Protocol

ODRL_NAMESPACE = "http://www.w3.org/ns/odrl/2/"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
PROFILE_PREFIX = "mkt"

# ISO 3166-1 alpha-3 "CHN" in the EU Publications Office country table: the place IRI the
# vocabulary asks for (odrl:spatial "An IRI MUST be used to represent this value").
CHINA = "http://publications.europa.eu/resource/authority/country/CHN"
CURRENCY_TABLE = "http://publications.europa.eu/resource/authority/currency/"


def _iri(term: str) -> dict[str, str]:
    return {"@type": "@id", "@id": f"odrl:{term}"}


def _vocab(term: str) -> dict[str, str]:
    return {"@type": "@vocab", "@id": f"odrl:{term}"}


ODRL_TERMS: dict[str, Any] = {
    "odrl": ODRL_NAMESPACE,
    "uid": "@id",
    "type": "@type",
    "Policy": "odrl:Policy",
    "Set": "odrl:Set",
    "Offer": "odrl:Offer",
    "Agreement": "odrl:Agreement",
    "profile": _iri("profile"),
    "target": _iri("target"),
    "assigner": _iri("assigner"),
    "assignee": _iri("assignee"),
    "attributedParty": _iri("attributedParty"),
    "permission": _iri("permission"),
    "prohibition": _iri("prohibition"),
    "duty": _iri("duty"),
    "constraint": _iri("constraint"),
    "action": _vocab("action"),
    "leftOperand": _vocab("leftOperand"),
    "operator": _vocab("operator"),
    "rightOperand": "odrl:rightOperand",
    "unit": "odrl:unit",
    # Actions
    "use": "odrl:use",
    "transfer": "odrl:transfer",
    "grantUse": "odrl:grantUse",
    "aggregate": "odrl:aggregate",
    "derive": "odrl:derive",
    "transform": "odrl:transform",
    "sell": "odrl:sell",
    "distribute": "odrl:distribute",
    "move": "odrl:move",
    "attribute": "odrl:attribute",
    "delete": "odrl:delete",
    "obtainConsent": "odrl:obtainConsent",
    "compensate": "odrl:compensate",
    # Left operands
    "purpose": "odrl:purpose",
    "spatial": "odrl:spatial",
    "dateTime": "odrl:dateTime",
    "elapsedTime": "odrl:elapsedTime",
    "count": "odrl:count",
    "payAmount": "odrl:payAmount",
    # Operators
    "eq": "odrl:eq",
    "neq": "odrl:neq",
    "gteq": "odrl:gteq",
    "lteq": "odrl:lteq",
    "isAnyOf": "odrl:isAnyOf",
}


def profile_term(scheme: str, value: str) -> str:
    """The compact IRI of a concept of the exchange's profile: `mkt:purpose-ai-training`."""
    return f"{PROFILE_PREFIX}:{scheme}-{value.replace('_', '-')}"


class Identifiers(Protocol):
    """The exchange's identifier scheme, as the ODRL export needs it (one IRI per object)."""

    @property
    def vocabulary(self) -> str:
        """The exchange's vocabulary document: the ODRL profile its policies conform to."""
        ...

    def participant(self, participant_id: object) -> str: ...

    def product(self, product_id: object) -> str: ...

    def resource(self, resource_id: object) -> str: ...

    def offer(self, product_id: object) -> str: ...

    def licence(self, licence_id: object) -> str: ...

    def grant(self, grant_id: object) -> str: ...

    def registration(self, registration_id: object) -> str: ...
