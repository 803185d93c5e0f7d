"""The catalogue as DCAT-AP 3 with ODRL offers: validated against the published shapes.

Every document is checked by `linked_data_checks.assert_conforms`: it parses offline, has no
DCAT-AP 3.0.1 violation (mandatory and range shapes, the date shapes both as the 3.0.x files
write them and as `sh:node`), uses only ODRL 2.2 terms and leaves no prefix unbound.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rdflib import RDF, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF

from market.demo.seed import seed_demo_data
from tests.api.factories import Api
from tests.api.linked_data_checks import assert_conforms, graph_of, language, violations
from tests.api.test_catalog_products import listed

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
# Plain namespaces: rdflib's closed DCAT and XSD ones warn when pytest inspects the module.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
MKT = Namespace("http://test/ns/market#")  # the test client's requests go to http://test
EU = "http://publications.europa.eu/resource/authority/"
LD = {"Accept": "application/ld+json"}
TURTLE = {"Accept": "text/turtle"}
PLANS = {
    "fixed": {"kind": "fixed", "unit_price": "2.00", "currency": "CNY"},
    "one_off": {"kind": "one_off", "price": "5000", "currency": "CNY"},
    "tiered": {
        "kind": "tiered",
        "style": "graduated",
        "currency": "CNY",
        "tiers": [
            {"first_unit": 1, "last_unit": 100, "unit_price": "1.00"},
            {"first_unit": 101, "unit_price": "0.50"},
        ],
    },
    "metered": {
        "kind": "metered",
        "base_fee": "100",
        "included_units": 1000,
        "unit_price": "0",
        "overage_unit_price": "0.05",
        "currency": "CNY",
    },
    "subscription": {"kind": "subscription", "period": "month", "price_per_period": "300", "currency": "CNY"},
}


async def test_the_demo_catalogue_conforms_and_reads_in_both_languages(client: Any, app: Any) -> None:
    assert await seed_demo_data(app.state.settings)
    answer = await client.get("/v1/catalog.jsonld")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ld+json"
    assert answer.headers["vary"] == "Accept"
    graph = assert_conforms(answer.json())

    catalogue = URIRef("http://test/v1/catalog")
    assert (catalogue, RDF.type, DCAT.Catalog) in graph
    titles = {language(t) for t in graph.objects(catalogue, DCTERMS.title)}
    assert titles == {"zh", "en"}
    publisher = graph.value(catalogue, DCTERMS.publisher)
    assert {language(n) for n in graph.objects(publisher, FOAF.name)} == {"zh", "en"}
    datasets = list(graph.objects(catalogue, DCAT.dataset))
    assert len(datasets) == 2
    for dataset in datasets:
        issued = graph.value(dataset, DCTERMS.issued)
        assert isinstance(issued, Literal) and issued.datatype == XSD.dateTime
        seller = graph.value(dataset, DCTERMS.publisher)
        assert str(graph.value(seller, FOAF.name)) == "吉林省数据样例科技有限公司"
        assert language(graph.value(dataset, DCTERMS.title)) == "zh"
        assert graph.value(dataset, DCAT.theme) == URIRef(f"{EU}data-theme/ECON")
        distribution = graph.value(dataset, DCAT.distribution)
        assert str(graph.value(distribution, DCTERMS.format)).startswith(f"{EU}file-type/")
        # the licence and the policy of the distribution are the dataset's offer
        offer = graph.value(dataset, ODRL.hasPolicy)
        assert (
            graph.value(distribution, ODRL.hasPolicy) == offer == graph.value(distribution, DCTERMS.license)
        )
        assert graph.value(offer, ODRL.target) == dataset
        assert graph.value(offer, ODRL.assigner) == seller
    formats = {str(graph.value(graph.value(d, DCAT.distribution), DCAT.mediaType)) for d in datasets}
    assert formats == {
        "https://www.iana.org/assignments/media-types/application/json",
        "https://www.iana.org/assignments/media-types/text/csv",
    }
    [service] = graph.subjects(RDF.type, DCAT.DataService)
    assert str(graph.value(service, DCAT.endpointURL)).startswith("http://test/gateway/")

    # The same graph as Turtle, from the document's URL and from the catalogue's IRI.
    for url in ("/v1/catalog.jsonld", "/v1/catalog?limit=200"):
        turtle = await client.get(url, headers=TURTLE)
        assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
        assert isomorphic(graph_of(turtle.text, "text/turtle"), graph)
    as_ld = await client.get("/v1/catalog?limit=200", headers=LD)
    assert isomorphic(graph_of(as_ld.json()), graph)


async def test_every_delivery_mode_and_price_plan_kind_conforms(api: Api, client: Any, app: Any) -> None:
    seller = await api.org(name="长春数据服务有限公司")
    made = {}
    # kind: (delivery mode, media type, EU themes, description)
    shapes = {
        "fixed": ("file", "text/csv", ["ECON"], "described"),
        "one_off": ("api", "application/json", ["ECON", "TRAN"], "described"),
        "tiered": ("sandbox", None, [], "described"),
        # RFC 6838 allows `^` and `#` in a media type; its IANA IRI must escape them.
        "metered": ("api", "application/vnd.jlde^v2#csv", ["TRAN"], "described"),
        "subscription": ("file", None, [], ""),  # no description: the title stands in
    }
    for kind, (mode, media_type, themes, description) in shapes.items():
        made[kind] = await listed(
            api,
            client,
            app,
            seller,
            title=f"Product {kind} {mode}",
            delivery_mode=mode,
            price_plan=PLANS[kind],
            themes=themes,
            media_type=media_type,
            description=description,
        )
    catalogue = await client.get("/v1/catalog.jsonld")
    graph = assert_conforms(catalogue.json())
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == len(PLANS)

    for kind, product in made.items():
        iri = URIRef(f"http://test/v1/products/{product['id']}")
        # Each product's IRI resolves to its own description, the same nodes as in the catalogue.
        own = await client.get(f"/v1/products/{product['id']}", headers=LD)
        assert own.status_code == 200 and own.headers["content-type"] == "application/ld+json"
        own_graph = assert_conforms(own.json())
        assert set(own_graph.predicate_objects(iri)) == set(graph.predicate_objects(iri))
        as_turtle = await client.get(f"/v1/products/{product['id']}", headers=TURTLE)
        assert as_turtle.status_code == 200, as_turtle.text
        assert isomorphic(graph_of(as_turtle.text, "text/turtle"), own_graph)
        # The offer resolves too; its price duty is the plan's lowest price, in yuan.
        offer = URIRef(f"{iri}/offer")
        offer_doc = await client.get(f"/v1/products/{product['id']}/offer")
        assert offer_doc.status_code == 200
        terms = assert_conforms(offer_doc.json())
        assert terms.value(offer, MKT.pricePlanKind) == MKT[f"plan-{kind.replace('_', '-')}"]
        [pay] = [
            c
            for duty in terms.objects(None, ODRL.duty)
            if terms.value(duty, ODRL.action) == ODRL.compensate
            for c in terms.objects(duty, ODRL.constraint)
        ]
        assert Decimal(str(terms.value(pay, ODRL.rightOperand))) == Decimal(product["price_from_minor"]) / 100
        assert terms.value(pay, ODRL.unit) == URIRef(f"{EU}currency/CNY")
    unknown = URIRef(f"http://test/v1/products/{made['metered']['id']}#distribution")
    assert graph.value(unknown, DCTERMS.format) is None  # an IANA type with no EU file type: no format
    assert str(graph.value(unknown, DCAT.mediaType)).endswith("/application/vnd.jlde%5Ev2%23csv")


async def test_the_checks_catch_what_the_old_catalogue_got_wrong() -> None:
    """The issue's catalogue, abridged: the validation tests fail on exactly its faults."""
    old = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": "http://127.0.0.1:8000/v1/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": "Jilin data exchange catalogue",
        "dcat:dataset": [
            {
                "@id": "http://127.0.0.1:8000/v1/products/1",
                "@type": "dcat:Dataset",
                "dct:title": "经营指数",
                "dct:description": "",
                "dct:publisher": {"@id": "urn:participant:1", "@type": "foaf:Agent"},
                "dct:issued": "2026-11-22T10:00:00+00:00",
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dct:format": "API access",
                        "dcat:accessURL": {"@id": "http://127.0.0.1:8000/v1/products/1"},
                    }
                ],
            }
        ],
    }
    as_written = violations(graph_of(old), date_shapes_as_node=False)
    as_meant = violations(graph_of(old), date_shapes_as_node=True)
    for fault in (
        "catalog.jsonld http://purl.org/dc/terms/description",
        "catalog.jsonld http://purl.org/dc/terms/publisher",
    ):
        assert any(fault in line for line in as_written), (fault, as_written)
    assert any("participant:1 http://xmlns.com/foaf/0.1/name" in line for line in as_written)
    assert any("http://purl.org/dc/terms/format" in line for line in as_written)
    # The untyped date passes the shapes as published, and fails them read with sh:node.
    assert not any("issued" in line for line in as_written)
    assert any("products/1 http://purl.org/dc/terms/issued" in line for line in as_meant)


async def test_content_negotiation(api: Api, client: Any, app: Any) -> None:
    seller = await api.org()
    product = await listed(api, client, app, seller, title="Negotiated")
    plain = await client.get(f"/v1/products/{product['id']}")
    assert plain.headers["content-type"] == "application/json" and plain.json()["title"] == "Negotiated"
    assert plain.headers["vary"] == "Accept"
    preferring_json = {"Accept": "application/json, application/ld+json;q=0.5"}
    assert (await client.get(f"/v1/products/{product['id']}", headers=preferring_json)).json()["title"]
    weighted = {"Accept": "application/json;q=0.4, text/turtle"}
    as_turtle = await client.get(f"/v1/products/{product['id']}", headers=weighted)
    assert as_turtle.headers["content-type"].startswith("text/turtle")
    assert_conforms(as_turtle.text, "text/turtle")
    # A document that exists only as linked data: JSON-LD for JSON, 406 for what it cannot be.
    assert (await client.get("/v1/catalog.jsonld", headers={"Accept": "application/json"})).json()["@graph"]
    refused = await client.get("/v1/catalog.jsonld", headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"
    assert "text/turtle" in refused.json()["detail"]
    assert (
        await client.get(f"/v1/products/{product['id']}/offer", headers={"Accept": "image/png"})
    ).status_code == 406
    # An unlisted product stays private in every representation.
    draft = await client.post(
        "/v1/products",
        json={
            **{k: product[k] for k in ("title", "delivery_mode", "scenarios", "price_plan")},
            "resource_ids": [product["resource"]["resource_id"]],
            "licence_template": product["licence_template"],
        },
        headers=seller.headers,
    )
    assert draft.status_code == 201, draft.text
    for path in (f"/v1/products/{draft.json()['id']}", f"/v1/products/{draft.json()['id']}/offer"):
        assert (await client.get(path, headers=LD)).status_code == 404
        assert (await client.get(path, headers={**LD, **seller.headers})).status_code == 200
