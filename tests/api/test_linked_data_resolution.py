"""One identifier scheme: every object's IRI resolves, and the documents link up.

A seller registers a resource through the API (a real, signed certificate), lists a product on it
and a buyer pays for it. The catalogue's dataset is then the licence's target, its publisher the
licence's assigner and the certificate's holder; each IRI answers its JSON-LD to those allowed
to see it; every exchange term used anywhere is defined in the exchange's published vocabulary.
"""

from __future__ import annotations

import uuid
from typing import Any

from rdflib import RDF, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from market.common.ed25519 import public_key_from_b64
from market.registry.certificates import verify_certificate
from tests.api import runtime_swaps
from tests.api.factories import PASSWORD, Api, Party
from tests.api.linked_data_checks import assert_conforms, graph_of, language
from tests.api.orders_factories import bought
from tests.api.registry_factories import grant, holding_grant_id, registered_resource
from tests.api.test_catalog_products import product_body

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
# Plain namespaces: rdflib's closed DCAT and XSD ones warn when pytest inspects the module.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
MKT = Namespace("http://test/ns/market#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
LD = {"Accept": "application/ld+json"}


async def person(api: Api, name: str, roles: tuple[str, ...] = ("buyer",)) -> Party:
    n = uuid.uuid4().hex[:8]
    email = f"{n}@person.example.cn"
    r = await api.client.post(
        "/v1/participants",
        json={
            "kind": "natural_person",
            "name": name,
            "identity_number": f"2201021990{n[:8].encode().hex()[:8]}",
            "roles": list(roles),
            "user": {"email": email, "password": PASSWORD, "display_name": name},
        },
    )
    assert r.status_code == 201, r.text
    return Party(r.json()["participant"]["id"], r.json()["user"]["id"], email, await api.login(email))


async def traded(api: Api, client: Any) -> dict[str, Any]:
    """A registered resource, a product listed on it, and a buyer's licence."""
    operator = await api.staff("operator")
    seller = await api.org(name="吉林链上数据有限公司")
    registered = await registered_resource(api, seller, operator, title="吉林物流数据")
    rid = registered["resource"]["id"]
    made = await client.post(
        "/v1/products",
        json=product_body(
            rid, title="吉林物流指数", themes=["TRAN"], media_type="text/csv", delivery_mode="file"
        ),
        headers=seller.headers,
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    operating = await grant(
        api,
        seller,
        await holding_grant_id(api, seller.headers, rid),
        seller.participant_id,
        "operating",
        "product",
        pid,
    )
    assert operating.status_code == 201, operating.text
    listing = await client.post(f"/v1/products/{pid}/listing", headers=seller.headers)
    assert listing.json()["product"]["listing_status"] == "listed", listing.text
    buyer = await person(api, "王小明")
    trade = await bought(client, buyer.headers, operator, pid)
    return {
        "seller": seller,
        "buyer": buyer,
        "operator": operator,
        "product_id": pid,
        "resource_id": rid,
        "registration": registered["registration"],
        "licence_id": trade["order"]["licence_id"],
        "operating_grant_id": operating.json()["id"],
    }


async def test_the_documents_link_up_and_every_iri_resolves(api: Api, client: Any, app: Any) -> None:
    t = await traded(api, client)
    seller, buyer = t["seller"], t["buyer"]
    catalogue = assert_conforms((await client.get("/v1/catalog.jsonld")).json())
    dataset = URIRef(f"http://test/v1/products/{t['product_id']}")
    publisher = catalogue.value(dataset, DCTERMS.publisher)
    assert publisher == URIRef(f"http://test/v1/participants/{seller.participant_id}")
    certificate = catalogue.value(dataset, MKT.registrationCertificate)
    number = t["registration"]["registration_number"]
    assert certificate == URIRef(f"http://test/v1/registry/{number}")

    # The licence (its IRI is the licence's API address) is an ODRL Agreement on the same dataset.
    licence_iri = f"http://test/v1/licences/{t['licence_id']}"
    as_ld = await client.get(licence_iri, headers={**LD, **buyer.headers})
    assert as_ld.status_code == 200 and as_ld.headers["content-type"] == "application/ld+json"
    licence = assert_conforms(as_ld.json())
    agreement = URIRef(licence_iri)
    assert (agreement, RDF.type, ODRL.Agreement) in licence
    assert licence.value(agreement, ODRL.target) == dataset
    assert licence.value(agreement, ODRL.assigner) == publisher
    assert licence.value(agreement, ODRL.assignee) == URIRef(
        f"http://test/v1/participants/{buyer.participant_id}"
    )
    assert licence.value(agreement, MKT.registration) == URIRef(
        f"http://test/v1/registrations/{t['registration']['id']}"
    )
    odrl_view = await client.get(f"/v1/licences/{t['licence_id']}/odrl", headers=seller.headers)
    assert odrl_view.headers["content-type"] == "application/ld+json"
    assert odrl_view.json() == as_ld.json()
    assert (await client.get(licence_iri, headers=buyer.headers)).json()["status"] == "active"  # plain JSON
    stranger = await api.org()
    assert (await client.get(licence_iri, headers={**LD, **stranger.headers})).status_code == 404
    assert (await client.get(licence_iri, headers=LD)).status_code == 401

    # The operating right the licence rests on, and the registration behind it, resolve for the seller.
    right = licence.value(agreement, MKT.restsOn)
    assert right == URIRef(f"http://test/v1/grants/{t['operating_grant_id']}")
    grant_doc = assert_conforms((await client.get(str(right), headers={**LD, **seller.headers})).json())
    assert grant_doc.value(right, MKT.rightKind) == MKT["right-operating"]
    assert grant_doc.value(right, ODRL.target) == dataset
    registration = licence.value(agreement, MKT.registration)
    reg_doc = assert_conforms((await client.get(str(registration), headers={**LD, **seller.headers})).json())
    assert reg_doc.value(registration, MKT.registrationCertificate) == certificate

    # The certificate is public: holder and resource by IRI, the fingerprint, the signed original.
    cert_answer = await client.get(str(certificate), headers=LD)
    cert = assert_conforms(cert_answer.json())
    assert cert.value(certificate, DCTERMS.rightsHolder) == publisher
    resource = URIRef(f"http://test/v1/resources/{t['resource_id']}")
    assert cert.value(certificate, MKT.registeredResource) == resource
    checksum = cert.value(certificate, SPDX.checksum)
    signed = cert_answer.json()["mkt:signedCertificate"]["@value"]
    assert str(cert.value(checksum, SPDX.checksumValue)) == signed["fingerprint_sha256"]
    key = public_key_from_b64(str(cert.value(certificate, MKT.publicKey)))
    original = {
        "certificate": signed,
        "algorithm": "Ed25519",
        "signature": str(cert.value(certificate, MKT.signature)),
    }
    assert verify_certificate(original, key).ok
    res_doc = assert_conforms((await client.get(str(resource), headers={**LD, **seller.headers})).json())
    assert res_doc.value(resource, MKT.registrationCertificate) == certificate
    assert (await client.get(str(resource), headers={**LD, **stranger.headers})).status_code == 404

    # Participants: the public parts, to anyone; a natural person is never named in full.
    seller_doc = await client.get(str(publisher), headers=LD)
    agent = assert_conforms(seller_doc.json())
    assert str(agent.value(publisher, FOAF.name)) == "吉林链上数据有限公司"
    assert str(agent.value(publisher, DCTERMS.identifier)) == seller.credit_code
    buyer_iri = licence.value(agreement, ODRL.assignee)
    buyer_doc = await client.get(str(buyer_iri), headers=LD)
    assert "王小明" not in buyer_doc.text and "identity" not in buyer_doc.text
    assert str(assert_conforms(buyer_doc.json()).value(buyer_iri, FOAF.name)) == "王**"
    assert (await client.get(str(buyer_iri))).status_code == 401  # the full JSON view is not public
    assert (await client.get(f"/v1/participants/{uuid.uuid4()}", headers=LD)).status_code == 404

    # Every exchange term any of these documents uses is defined in the published vocabulary.
    vocabulary = assert_conforms((await client.get("/ns/market")).json())
    used = {
        node
        for graph in (catalogue, licence, grant_doc, reg_doc, cert, res_doc, agent)
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and node.startswith(MKT)
    }
    assert MKT["purpose-risk-control"] in used and MKT["grade-general"] in used
    undefined = {iri for iri in used if (iri, None, None) not in vocabulary}
    assert undefined == set()
    assert {language(c) for c in vocabulary.objects(MKT["right-operating"], SKOS.prefLabel)} == {"zh", "en"}
    turtle = await client.get("/ns/market", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert len(graph_of(turtle.text, "text/turtle")) == len(vocabulary)
    context = (await client.get("/ns/market/context.jsonld")).json()["@context"]
    assert context["mkt"] == str(MKT) and context["action"] == {"@type": "@vocab", "@id": "odrl:action"}
    assert (catalogue.value(dataset, DCAT.theme)) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/TRAN"
    )


async def test_a_natural_persons_certificate_does_not_name_them(api: Api, client: Any) -> None:
    holder = await person(api, "李华明", roles=("seller",))
    registered = await registered_resource(api, holder, title="个人健身记录")
    certificate = f"/v1/registry/{registered['registration']['registration_number']}"
    answer = await client.get(certificate, headers=LD)
    graph = assert_conforms(answer.json())
    assert "李华明" not in answer.text and "mkt:signedCertificate" not in answer.json()
    holder_iri = graph.value(URIRef(f"http://test{certificate}"), DCTERMS.rightsHolder)
    assert holder_iri == URIRef(f"http://test/v1/participants/{holder.participant_id}")
    public = await client.get(str(holder_iri), headers=LD)
    assert "李华明" not in public.text and "李**" in public.text


async def test_iris_are_under_the_public_base_url(api: Api, client: Any, app: Any) -> None:
    """Configured, it is used as is; otherwise the request's own address; behind a proxy, the
    forwarded one only when that proxy is trusted."""

    async def catalogue_iri(**headers: str) -> str:
        body = (await client.get("/v1/catalog.jsonld", headers=headers)).json()
        [node] = [n for n in body["@graph"] if n.get("@type") == "dcat:Catalog"]
        return str(node["@id"])

    assert await catalogue_iri() == "http://test/v1/catalog"
    assert (
        await catalogue_iri(host="exchange.example.cn:8443") == "http://exchange.example.cn:8443/v1/catalog"
    )
    forwarded = {
        "x-forwarded-proto": "https",
        "x-forwarded-host": "data.example.cn",
        "x-forwarded-prefix": "/market",
    }
    assert await catalogue_iri(**forwarded) == "http://test/v1/catalog"  # from anyone: ignored
    with runtime_swaps.settings(app, trusted_proxies="127.0.0.0/8"):  # the test client is 127.0.0.1
        assert await catalogue_iri(**forwarded) == "https://data.example.cn/market/v1/catalog"
        rfc7239 = {"forwarded": 'for=192.0.2.60;proto=https;host="data.example.cn:444"'}
        assert await catalogue_iri(**rfc7239) == "https://data.example.cn:444/v1/catalog"
        assert await catalogue_iri(**{"x-forwarded-host": "evil.example/<x>"}) == "http://test/v1/catalog"
    with runtime_swaps.settings(app, public_base_url="https://jlde.example.cn/"):
        assert await catalogue_iri(**forwarded) == "https://jlde.example.cn/v1/catalog"
        seller = await api.org()
        doc = (await client.get(f"/v1/participants/{seller.participant_id}", headers=LD)).json()
        assert doc["@id"] == f"https://jlde.example.cn/v1/participants/{seller.participant_id}"
