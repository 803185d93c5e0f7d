"""The catalogue as DCAT-AP 3 linked data, each product with its ODRL offer.

A listed product is a `dcat:Dataset` (its IRI is the product's: `market.common.iris`) with
one `dcat:Distribution` for its delivery mode; an API product is also a `dcat:DataService`
served at the exchange's gateway. The seller is the publisher (`foaf:Agent`), the exchange's
data service the contact point. Every distribution links the product's ODRL Offer both as
its licence (`dct:license`) and its policy (`odrl:hasPolicy`); the dataset links the offer, its
access rights (EU access-right "restricted": bought under a licence) and the registration
certificates of the resources it is built on (Art. 62). Formats are EU file types and IANA
media types, themes EU data themes, dates typed, the exchange's own texts in zh and en.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import LicenceTemplate, OfferPrice, offer_to_odrl, profile_term
from market.catalog import products as product_service
from market.catalog.models import Product
from market.common import eu_vocabularies as eu
from market.common.iris import Iris
from market.common.linked_data import date_time, ref, text, texts
from market.ns.vocabulary import contact_point, exchange_agent
from market.participants import service as participants
from market.participants.linked_data import agent
from market.participants.models import Participant
from market.registry import linked_data as registry_ld
from market.registry.models import Registration
from pricing.money import Money

Node = dict[str, Any]
DISTRIBUTION_TITLES = {
    "file": texts("文件交付", "File delivery"),
    "api": texts("接口调用（经交易所网关）", "API access through the exchange's gateway"),
    "sandbox": texts("隐私计算沙箱", "Privacy-computing sandbox"),
}
DISTRIBUTION_DESCRIPTIONS = {
    "file": texts(
        "购买后，按许可下载文件（支持断点续传，以SHA-256校验）。",
        "After purchase, the licensed files are downloaded through the exchange (ranges, SHA-256 ETags).",
    ),
    "api": texts(
        "购买后，凭交付凭证经交易所网关调用，按许可配额计量。",
        "After purchase, called through the exchange's gateway with a delivery credential, metered "
        "against the licence's quota.",
    ),
    "sandbox": texts(
        "数据不出域：在隐私计算沙箱中按许可使用。",
        "The data stays where it is: used under the licence in a privacy-computing sandbox.",
    ),
}


@dataclass(frozen=True)
class ListedProduct:
    """A product with what its description needs from other features."""

    product: Product
    seller: Participant | None
    certificates: list[Registration]


async def gather(session: AsyncSession, rows: Sequence[Product]) -> list[ListedProduct]:
    """The sellers and certificates of a page of products, in three queries for the page."""
    resources = await product_service.resource_ids_of_many(session, [p.id for p in rows])
    sellers = await participants.get_many(session, {p.seller_id for p in rows})
    certified = await registry_ld.certificates_of(
        session, sorted({r for ids in resources.values() for r in ids})
    )
    return [
        ListedProduct(
            p,
            sellers.get(p.seller_id),
            [reg for rid in resources.get(p.id, []) for reg in certified.get(rid, [])],
        )
        for p in rows
    ]


def offer(product: Product, iris: Iris) -> Node:
    """The product's ODRL Offer: what any buyer's licence will be derived from, and its price."""
    price = Money.from_minor(product.price_from_minor, product.currency)
    return offer_to_odrl(
        LicenceTemplate.model_validate(product.licence_template),
        iris,
        product_id=str(product.id),
        seller_id=str(product.seller_id),
        price=OfferPrice(price.amount, product.currency, str(product.price_plan.get("kind", "fixed"))),
    )


def _theme(code: str) -> Node:
    en, zh = eu.DATA_THEMES[code]
    return {
        "@id": eu.data_theme(code),
        "@type": "skos:Concept",
        "skos:prefLabel": texts(zh, en),
        "skos:inScheme": ref(eu.DATA_THEME_SCHEME),
    }


def _access_rights() -> Node:
    return {"@id": eu.ACCESS_RESTRICTED, "@type": "dct:RightsStatement"}


def _formats(media_type: str | None, *, with_media_type: bool = True) -> Node:
    """`dct:format` as an EU file type where one matches; a distribution also `dcat:mediaType`."""
    if media_type is None:
        return {}
    out: Node = {}
    if with_media_type:
        out["dcat:mediaType"] = {"@id": eu.media_type_iri(media_type), "@type": "dct:MediaType"}
    if file_type := eu.file_type(media_type):
        out["dct:format"] = {"@id": file_type, "@type": "dct:MediaTypeOrExtent"}
    return out


def _distribution(p: Product, iris: Iris) -> Node:
    node: Node = {
        "@id": iris.distribution(p.id),
        "@type": "dcat:Distribution",
        "dct:title": DISTRIBUTION_TITLES[p.delivery_mode],
        "dct:description": DISTRIBUTION_DESCRIPTIONS[p.delivery_mode],
        "dcat:accessURL": ref(iris.gateway(p.id) if p.delivery_mode == "api" else iris.product(p.id)),
        "dct:license": ref(iris.offer(p.id)),
        "odrl:hasPolicy": ref(iris.offer(p.id)),
        "dct:rights": _access_rights(),
        **_formats(p.media_type),
    }
    if p.delivery_mode == "api":
        node["dcat:accessService"] = ref(iris.data_service(p.id))
    return node


def _data_service(p: Product, iris: Iris) -> Node:
    return {
        "@id": iris.data_service(p.id),
        "@type": "dcat:DataService",
        "dct:title": text(p.title),
        "dcat:endpointURL": ref(iris.gateway(p.id)),
        "dcat:servesDataset": ref(iris.product(p.id)),
        "dcat:keyword": [text(s) for s in p.scenarios],
        "dcat:theme": [ref(eu.data_theme(code)) for code in p.themes],
        "dct:publisher": ref(iris.participant(p.seller_id)),
        "dct:accessRights": _access_rights(),
        "dct:license": ref(iris.offer(p.id)),
        "dcat:contactPoint": ref(iris.contact_point),
        **_formats(p.media_type, with_media_type=False),
    }


def _dataset(item: ListedProduct, iris: Iris) -> Node:
    p = item.product
    node: Node = {
        "@id": iris.product(p.id),
        "@type": "dcat:Dataset",
        "dct:identifier": str(p.id),
        "dct:title": text(p.title),
        # DCAT-AP requires a description; a product listed without one is described by its title.
        "dct:description": text(p.description or p.title),
        "dct:publisher": ref(iris.participant(p.seller_id)),
        "dcat:contactPoint": ref(iris.contact_point),
        "dcat:keyword": [text(s) for s in p.scenarios],
        "dcat:theme": [ref(eu.data_theme(code)) for code in p.themes],
        "dct:accessRights": _access_rights(),
        "dcat:distribution": ref(iris.distribution(p.id)),
        "odrl:hasPolicy": ref(iris.offer(p.id)),
        "mkt:grade": ref(profile_term("grade", p.grade)),
        "mkt:dataCategory": ref(profile_term("category", p.category)),
        "mkt:deliveryMode": ref(profile_term("delivery", p.delivery_mode)),
        "mkt:registrationCertificate": [
            ref(iris.certificate(str(r.registration_number))) for r in item.certificates
        ],
        "dct:modified": date_time(p.updated_at),
    }
    if p.listed_at is not None:
        node["dct:issued"] = date_time(p.listed_at)
    return node


def product_nodes(item: ListedProduct, iris: Iris) -> list[Node]:
    """Every node describing one product: dataset, distribution, service, offer, certificates."""
    p = item.product
    nodes = [_dataset(item, iris), _distribution(p, iris), offer(p, iris)]
    if p.delivery_mode == "api":
        nodes.append(_data_service(p, iris))
    nodes.extend(registry_ld.certificate_reference(r, iris) for r in item.certificates)
    if item.seller is not None:
        nodes.append(agent(item.seller, iris))
    return nodes


def _shared_nodes(items: Sequence[ListedProduct], iris: Iris, contact_email: str) -> list[Node]:
    themes = sorted({code for item in items for code in item.product.themes})
    scheme = {
        "@id": eu.DATA_THEME_SCHEME,
        "@type": "skos:ConceptScheme",
        "dct:title": texts("数据主题", "Data theme"),
    }
    return [contact_point(iris, contact_email), scheme, *(_theme(code) for code in themes)]


def _unique(nodes: list[Node]) -> list[Node]:
    """One node per IRI (a seller of several products is described once)."""
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(node.get("@id") or node.get("uid") or str(uuid.uuid4()), node)
    return list(seen.values())


def dataset_document(item: ListedProduct, iris: Iris, contact_email: str) -> dict[str, Any]:
    return iris.document(
        {"@graph": _unique([*product_nodes(item, iris), *_shared_nodes([item], iris, contact_email)])}
    )


def offer_document(product: Product, iris: Iris) -> dict[str, Any]:
    return iris.document(offer(product, iris))


def catalogue_document(items: Sequence[ListedProduct], iris: Iris, contact_email: str) -> dict[str, Any]:
    """The catalogue of listed products (DCAT-AP 3), as one JSON-LD graph."""
    modified: list[datetime] = [item.product.updated_at for item in items]
    catalogue: Node = {
        "@id": iris.catalogue,
        "@type": "dcat:Catalog",
        "dct:title": texts("吉林数据交易所数据产品目录", "Jilin Data Exchange catalogue of data products"),
        "dct:description": texts(
            "在吉林数据交易所挂牌的数据产品：已登记的数据资源（第62条）、使用条件（ODRL）与价格。",
            "Data products listed on the Jilin Data Exchange: built on registered data resources "
            "(Art. 62), each with its terms of use as an ODRL offer and its price.",
        ),
        "dct:publisher": ref(iris.exchange),
        "foaf:homepage": {"@id": f"{iris.base}/docs", "@type": "foaf:Document"},
        "dct:language": [{"@id": iri, "@type": "dct:LinguisticSystem"} for iri in eu.LANGUAGES.values()],
        "dcat:themeTaxonomy": ref(eu.DATA_THEME_SCHEME),
        "dcat:dataset": [ref(iris.product(item.product.id)) for item in items],
        "dcat:service": [
            ref(iris.data_service(item.product.id)) for item in items if item.product.delivery_mode == "api"
        ],
    }
    if modified:
        catalogue["dct:modified"] = date_time(max(modified))
    nodes = [catalogue, exchange_agent(iris), *_shared_nodes(items, iris, contact_email)]
    for item in items:
        nodes.extend(product_nodes(item, iris))
    return iris.document({"@graph": _unique(nodes)})
