"""Resources, registrations and registration certificates as linked data (Art. 62).

The certificate's IRI (`{base}/v1/registry/{number}`) is public, like its JSON; its linked-data
form names the holder, the resource and the exchange by their IRIs, gives the fingerprint as an
SPDX checksum and carries the signed certificate verbatim (`mkt:signedCertificate`, an
`rdf:JSON` literal) with the signature and the exchange's key, so it still verifies offline
(README, "Verifying without trusting the exchange"). The signed certificate names the holder;
when the holder is a natural person it is left out here, and the JSON form remains for
verification by those entitled to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import profile_term
from market.common.iris import Iris
from market.common.linked_data import date_time, ref, text
from market.participants import service as participants
from market.registry import repository
from market.registry.models import DataResource, Registration

Node = dict[str, Any]


async def certificates_of(
    session: AsyncSession, resource_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Registration]]:
    """The registrations in force with a certificate, by resource, in one query."""
    out: dict[uuid.UUID, list[Registration]] = {rid: [] for rid in resource_ids}
    for reg in await repository.certified_registrations(session, resource_ids):
        out[reg.resource_id].append(reg)
    return out


def _certificate_body(reg: Registration) -> dict[str, Any]:
    assert reg.certificate is not None
    body: dict[str, Any] = reg.certificate["certificate"]
    return body


def certificate_reference(reg: Registration, iris: Iris) -> Node:
    """A certificate as another document mentions it: its IRI, number and issue time."""
    assert reg.registration_number is not None
    node: Node = {
        "@id": iris.certificate(reg.registration_number),
        "@type": "mkt:RegistrationCertificate",
        "mkt:registrationNumber": reg.registration_number,
    }
    issued = _certificate_body(reg).get("issued_at")
    if issued:
        node["dct:issued"] = {"@value": issued, "@type": "xsd:dateTime"}
    return node


def _checksum(fingerprint: str) -> Node:
    return {
        "@type": "spdx:Checksum",
        "spdx:algorithm": ref("spdx:checksumAlgorithm_sha256"),
        "spdx:checksumValue": {"@value": fingerprint, "@type": "xsd:hexBinary"},
    }


async def certificate_document(
    session: AsyncSession, reg: Registration, iris: Iris, public_key_b64: str
) -> dict[str, Any]:
    body = _certificate_body(reg)
    node = certificate_reference(reg, iris)
    node |= {
        "dct:identifier": reg.registration_number,
        "mkt:status": reg.status,
        "mkt:registration": ref(iris.registration(reg.id)),
        "mkt:registeredResource": {
            "@id": iris.resource(body["resource_id"]),
            "@type": "mkt:DataResource",
            "dct:title": text(str(body["resource_title"])),
        },
        "dct:rightsHolder": ref(iris.participant(body["holder_id"])),
        "mkt:grade": ref(profile_term("grade", str(body["grade"]))),
        "mkt:dataCategory": ref(profile_term("category", str(body["category"]))),
        "owl:versionInfo": str(body.get("version", 1)),
        "dct:publisher": ref(iris.exchange),
        "mkt:publicKey": public_key_b64,
    }
    if body.get("fingerprint_sha256"):
        node["spdx:checksum"] = _checksum(str(body["fingerprint_sha256"]))
    holder = await participants.find(session, uuid.UUID(str(body["holder_id"])))
    if holder is not None and holder.kind != "natural_person" and reg.certificate is not None:
        node["mkt:signedCertificate"] = {"@value": body, "@type": "@json"}
        node["mkt:signature"] = reg.certificate["signature"]
    return iris.document(node)


def registration_document(reg: Registration, iris: Iris) -> dict[str, Any]:
    node: Node = {
        "@id": iris.registration(reg.id),
        "@type": "mkt:Registration",
        "dct:identifier": str(reg.id),
        "mkt:status": reg.status,
        "mkt:registeredResource": ref(iris.resource(reg.resource_id)),
        "dct:creator": ref(iris.participant(reg.applicant_id)),
        "dct:created": date_time(reg.created_at),
    }
    if reg.registered_at is not None:
        node["dct:issued"] = date_time(reg.registered_at)
    if reg.registration_number and reg.certificate:
        node["mkt:registrationCertificate"] = certificate_reference(reg, iris)
    return iris.document(node)


async def resource_document(session: AsyncSession, resource: DataResource, iris: Iris) -> dict[str, Any]:
    registrations = await repository.registrations_of(session, resource.id)
    node: Node = {
        "@id": iris.resource(resource.id),
        "@type": "mkt:DataResource",
        "dct:identifier": str(resource.id),
        "dct:title": text(resource.title),
        "dct:rightsHolder": ref(iris.participant(resource.owner_id)),
        "mkt:grade": ref(profile_term("grade", resource.grade)),
        "mkt:dataCategory": ref(profile_term("category", resource.category)),
        "mkt:status": resource.status,
        "owl:versionInfo": str(resource.version),
        "mkt:registration": [ref(iris.registration(r.id)) for r in registrations],
        "mkt:registrationCertificate": [
            certificate_reference(r, iris)
            for r in registrations
            if r.status == "registered" and r.registration_number and r.certificate
        ],
    }
    if resource.description:
        node["dct:description"] = text(resource.description)
    if resource.fingerprint_sha256:
        node["spdx:checksum"] = _checksum(resource.fingerprint_sha256)
    return iris.document(node)
