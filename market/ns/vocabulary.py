"""The exchange's own vocabulary: the terms its documents use that no standard has.

Published at `{base}/ns/market` (namespace `{base}/ns/market#`, prefix `mkt`) as RDFS classes
and properties and SKOS concept schemes labelled in Chinese and English: the three rights of
Art. 22, the data grades of Art. 82 (GB/T 43697-2024), the data categories of Art. 21, the
purposes a licence may name (mapped to the W3C Data Privacy Vocabulary where one fits),
delivery modes and price plan kinds. It is also the ODRL profile of the exchange's offers,
licences and grants. The exchange itself (publisher, certificate issuer) and its contact
point are described here too, so their IRIs resolve to this document.
"""

from __future__ import annotations

from typing import Any

from contracts import Purpose, RightKind, profile_term
from market.common.iris import Iris
from market.common.linked_data import ref, texts

EXCHANGE_NAME = texts("吉林数据交易所", "Jilin Data Exchange")
DPV = "https://w3id.org/dpv#"
Node = dict[str, Any]

# (zh, en, definition in English, the law or standard it rests on)
RIGHTS = {
    RightKind.HOLDING: (
        "数据资源持有权",
        "Right to hold a data resource",
        "Art. 22; rooted at a registration, Art. 62",
    ),
    RightKind.PROCESSING: ("数据加工使用权", "Right to process and use data", "Art. 22"),
    RightKind.OPERATING: ("数据产品经营权", "Right to operate a data product", "Art. 22"),
}
GRADES = {
    "general": ("一般数据", "General data", "GB/T 43697-2024; Art. 82"),
    "important": ("重要数据", "Important data", "GB/T 43697-2024; Art. 82, 88"),
    "core": ("核心数据", "Core data", "GB/T 43697-2024; Art. 82 (never traded)"),
}
CATEGORIES = {
    "public": ("公共数据", "Public data", "Art. 21"),
    "enterprise": ("企业数据", "Enterprise data", "Art. 21"),
    "personal": ("个人数据", "Personal data", "Art. 21, 41-44"),
    "mixed": ("混合数据", "Data of several categories", "Art. 21 (a product built on several)"),
}
DELIVERY_MODES = {
    "file": ("文件交付", "File delivery", "files downloaded through the exchange"),
    "api": ("接口调用", "API access", "calls through the exchange's gateway, metered against the quota"),
    "sandbox": ("隐私计算沙箱", "Privacy-computing sandbox", "computation where the data stays"),
}
PLAN_KINDS = {
    "fixed": ("固定单价", "Fixed unit price", "a price per unit"),
    "one_off": ("一次性价格", "One-off price", "one price per order"),
    "tiered": ("阶梯价格", "Tiered price", "volume or graduated (累进) tiers"),
    "metered": ("计量价格", "Metered price", "a base fee, included units and overage"),
    "subscription": ("订阅价格", "Subscription", "a price per period"),
}
# Purposes → the closest W3C DPV purposes (skos:closeMatch when near-equal, relatedMatch otherwise).
PURPOSE_MATCHES: dict[Purpose, tuple[str, str]] = {
    Purpose.PUBLIC_GOVERNANCE: ("relatedMatch", "PublicPolicyMaking"),
    Purpose.PUBLIC_WELFARE: ("closeMatch", "PublicBenefit"),
    Purpose.ACADEMIC_RESEARCH: ("closeMatch", "AcademicResearch"),
    Purpose.COMMERCIAL_ANALYTICS: ("relatedMatch", "CommercialResearch"),
    Purpose.CREDIT_ASSESSMENT: ("relatedMatch", "CustomerSolvencyMonitoring"),
    Purpose.MARKETING: ("closeMatch", "Marketing"),
    Purpose.RISK_CONTROL: ("closeMatch", "OrganisationRiskManagement"),
    Purpose.PRODUCT_DEVELOPMENT: ("relatedMatch", "ResearchAndDevelopment"),
    Purpose.INTERNAL_OPERATIONS: ("relatedMatch", "InternalResourceOptimisation"),
}
# (local name, zh, en, comment)
CLASSES = (
    ("DataResource", "数据资源", "Data resource", "A resource registered with the exchange (Art. 21, 62)."),
    ("Registration", "数据要素登记", "Registration", "An application to register a resource (Art. 62)."),
    ("RegistrationCertificate", "登记证书", "Registration certificate", "Signed by the exchange (Ed25519)."),
)
# (local name, zh, en, comment, range is an IRI)
PROPERTIES = (
    ("grade", "数据分级", "grade", "The data grade (Art. 82), a concept of mkt:grades.", True),
    ("dataCategory", "数据类别", "data category", "Public, enterprise or personal (Art. 21).", True),
    ("deliveryMode", "交付方式", "delivery mode", "How a product reaches its buyer.", True),
    ("pricePlanKind", "定价方式", "price plan kind", "How an offer's price is computed.", True),
    ("rightKind", "权利类型", "right kind", "Which of the three rights of Art. 22 a grant carries.", True),
    ("restsOn", "权利依据", "rests on", "The operating right a licence is derived from (Art. 22).", True),
    ("registration", "登记", "registration", "The registration a right or licence goes back to.", True),
    ("registrationCertificate", "登记证书", "registration certificate", "A certificate of a resource.", True),
    ("registeredResource", "登记资源", "registered resource", "The resource a certificate certifies.", True),
    ("registrationNumber", "登记编号", "registration number", "The certificate's unique number.", False),
    ("status", "状态", "status", "A registration's status when the document was made.", False),
    ("scenario", "使用场景", "scenario", "A declared usage scenario: no scenario, no trade.", False),
    (
        "signedCertificate",
        "签名证书",
        "signed certificate",
        "The certificate exactly as signed (JSON).",
        False,
    ),
    ("signature", "签名", "signature", "Base64 Ed25519 signature of the certificate.", False),
    ("publicKey", "公钥", "public key", "Base64 Ed25519 public key of the exchange.", False),
)


def exchange_agent(iris: Iris) -> Node:
    return {
        "@id": iris.exchange,
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": EXCHANGE_NAME,
        "foaf:homepage": ref(f"{iris.base}/docs"),
    }


def contact_point(iris: Iris, email: str) -> Node:
    return {
        "@id": iris.contact_point,
        "@type": ["vcard:Kind", "vcard:Organization"],
        "vcard:fn": texts("吉林数据交易所数据服务", "Jilin Data Exchange data service"),
        "vcard:hasEmail": ref(f"mailto:{email}"),
        "vcard:hasURL": ref(f"{iris.base}/docs"),
    }


def _scheme(name: str, zh: str, en: str) -> Node:
    return {
        "@id": f"mkt:{name}",
        "@type": "skos:ConceptScheme",
        "dct:title": texts(zh, en),
        "skos:prefLabel": texts(zh, en),
    }


def _concepts(scheme: str, prefix: str, table: dict[Any, tuple[str, str, str]]) -> list[Node]:
    return [
        {
            "@id": profile_term(prefix, str(value)),
            "@type": "skos:Concept",
            "skos:inScheme": ref(f"mkt:{scheme}"),
            "skos:notation": str(value),
            "skos:prefLabel": texts(zh, en),
            "skos:definition": {"@value": definition, "@language": "en"},
        }
        for value, (zh, en, definition) in table.items()
    ]


def _purposes() -> list[Node]:
    concepts = _concepts(
        "purposes",
        "purpose",
        {
            p: (p.name_zh, p.value.replace("_", " "), "A purpose a licence may name (Art. 63(2))")
            for p in Purpose
        },
    )
    for concept, purpose in zip(concepts, Purpose, strict=True):
        if purpose in PURPOSE_MATCHES:
            relation, term = PURPOSE_MATCHES[purpose]
            concept[f"skos:{relation}"] = ref(f"{DPV}{term}")
    return concepts


def vocabulary_document(iris: Iris, contact_email: str) -> dict[str, Any]:
    """The vocabulary as one JSON-LD document (its context is the one every document uses)."""
    graph: list[Node] = [
        {
            "@id": iris.vocabulary,
            "@type": "owl:Ontology",
            "dct:title": texts("吉林数据交易所词汇表", "Vocabulary of the Jilin Data Exchange"),
            "dct:description": texts(
                "交易所文档中标准词汇未涵盖的术语：三权分置、数据分级分类、用途、交付方式、定价方式。",
                "Terms the exchange's documents use that no standard vocabulary has: the three rights "
                "(Art. 22), data grades and categories, purposes, delivery modes and price plan kinds. "
                "Also the ODRL profile of the exchange's offers, licences and grants.",
            ),
            "dct:publisher": ref(iris.exchange),
            "rdfs:seeAlso": ref("http://www.w3.org/ns/odrl/2/"),
        },
        exchange_agent(iris),
    ]
    for name, zh, en, comment in CLASSES:
        graph.append(
            {
                "@id": f"mkt:{name}",
                "@type": "rdfs:Class",
                "rdfs:label": texts(zh, en),
                "rdfs:comment": comment,
            }
        )
    for name, zh, en, comment, to_iri in PROPERTIES:
        kind = "owl:ObjectProperty" if to_iri else "owl:DatatypeProperty"
        graph.append(
            {
                "@id": f"mkt:{name}",
                "@type": ["rdf:Property", kind],
                "rdfs:label": texts(zh, en),
                "rdfs:comment": comment,
            }
        )
    for name, zh, en, prefix, table in (
        ("rights", "数据权利（三权分置）", "Data rights (Art. 22)", "right", RIGHTS),
        ("grades", "数据分级", "Data grades", "grade", GRADES),
        ("categories", "数据分类", "Data categories", "category", CATEGORIES),
        ("deliveryModes", "交付方式", "Delivery modes", "delivery", DELIVERY_MODES),
        ("pricePlanKinds", "定价方式", "Price plan kinds", "plan", PLAN_KINDS),
    ):
        graph.append(_scheme(name, zh, en))
        graph.extend(_concepts(name, prefix, table))
    graph.append(_scheme("purposes", "数据用途", "Purposes"))
    graph.extend(_purposes())
    graph.append(contact_point(iris, contact_email))
    return iris.document({"@graph": graph})
