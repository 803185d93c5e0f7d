"""A participant as linked data: the public parts only (a `foaf:Agent`).

What anyone may learn by following a publisher, assigner or assignee IRI: the kind of
participant, its name and, for an organisation or public body, its unified social credit code
(public under GB 32100-2015), and where it is established. A natural person is never named in
full (PIPL Art. 28, and what a trade needs to show): only the first character of the name,
masked, as is usual in published Chinese records. Nothing else (credit status, users,
identity hashes) leaves this module.
"""

from __future__ import annotations

from typing import Any

from market.common.iris import Iris
from market.common.linked_data import text
from market.participants.models import Participant

_TYPES = {
    "organisation": ["foaf:Agent", "foaf:Organization"],
    "public_body": ["foaf:Agent", "foaf:Organization"],
    "natural_person": ["foaf:Agent", "foaf:Person"],
}
COUNTRY_TABLE = "http://publications.europa.eu/resource/authority/country/"
# ISO 3166-1 alpha-2 (stored) → alpha-3 (the EU country table's codes), for the countries an
# exchange in Jilin deals with most; others are stated by their code only.
_ALPHA3 = {
    "CN": "CHN",
    "HK": "HKG",
    "MO": "MAC",
    "TW": "TWN",
    "KR": "KOR",
    "JP": "JPN",
    "RU": "RUS",
    "US": "USA",
}


def public_name(participant: Participant) -> str:
    """The name shown to the public: in full for an organisation, masked for a person."""
    if participant.kind != "natural_person":
        return participant.name
    return f"{participant.name.strip()[:1]}**"


def agent(participant: Participant, iris: Iris) -> dict[str, Any]:
    """The participant's public node, usable inside any document."""
    node: dict[str, Any] = {
        "@id": iris.participant(participant.id),
        "@type": _TYPES.get(participant.kind, ["foaf:Agent"]),
        "foaf:name": text(public_name(participant)),
    }
    if participant.kind != "natural_person" and participant.credit_code:
        node["dct:identifier"] = participant.credit_code
    alpha3 = _ALPHA3.get(participant.country)
    if alpha3:
        node["dct:spatial"] = {"@id": f"{COUNTRY_TABLE}{alpha3}"}
    return node


def agent_document(participant: Participant, iris: Iris) -> dict[str, Any]:
    return iris.document(agent(participant, iris))
