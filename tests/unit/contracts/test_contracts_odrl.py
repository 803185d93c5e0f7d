import json
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from contract_factories import HOUR, T0, child, holding, scope
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from contracts import (
    ODRL_TERMS,
    ContractError,
    Licence,
    LicenceTemplate,
    OfferPrice,
    Purpose,
    RightKind,
    Territory,
    derive_licence,
    grant_to_odrl,
    licence_to_odrl,
    offer_to_odrl,
    validate_chain,
)
from market.common.iris import Iris
from tests.api.linked_data_checks import (
    graph_of,
    odrl_context,
    odrl_terms_outside_vocabulary,
    standard,
    unresolved_iris,
    value,
)

ROOT = holding("H")
IRIS = Iris("https://data.example.cn")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
MKT = Namespace("https://data.example.cn/ns/market#")
CHINA = URIRef("http://publications.europa.eu/resource/authority/country/CHN")


def licence(**template: Any) -> Licence:
    oper = child(
        "O",
        ROOT,
        RightKind.OPERATING,
        holder="shop",
        scope=scope(Purpose.MARKETING, Purpose.RISK_CONTROL, sublicensable=True, volume=50),
    )
    terms: dict[str, Any] = {
        "permitted_purposes": frozenset({Purpose.MARKETING}),
        "scenarios": ("segmentation",),
        "term_days": 30,
    }
    terms.update(template)
    return derive_licence(
        LicenceTemplate(**terms),
        oper,
        validate_chain("O", {"H": ROOT, "O": oper}, T0),
        "buyer",
        "P1",
        Purpose.MARKETING,
        "segmentation",
        T0,
        licence_id="L1",
    )


def actions(rules: list[dict[str, Any]]) -> list[str]:
    return [r["action"] for r in rules]


def rdf(node: dict[str, Any]) -> Graph:
    """The node as the service publishes it: in a document with the inline context, parsed."""
    data = graph_of(IRIS.document(node))
    assert unresolved_iris(data) == []
    assert odrl_terms_outside_vocabulary(data) == []
    return data


def constraints_of(graph: Graph, rule: Any) -> dict[tuple[Any, Any], Any]:
    out: dict[tuple[Any, Any], Any] = {}
    for c in graph.objects(rule, ODRL.constraint):
        right: Any = graph.value(c, ODRL.rightOperand)
        if (right, RDF.first, None) in graph:
            right = list(graph.items(right))
        out[(graph.value(c, ODRL.leftOperand), graph.value(c, ODRL.operator))] = right
    return out


def test_the_inline_odrl_terms_are_the_official_contexts() -> None:
    official = odrl_context()
    assert {term: official.get(term) for term in ODRL_TERMS} == ODRL_TERMS


def test_a_licence_exports_as_an_odrl_agreement_under_the_exchanges_iris() -> None:
    policy = licence_to_odrl(licence(), IRIS)
    assert json.loads(json.dumps(policy)) == policy
    assert policy["@type"] == "Agreement"
    assert policy["uid"] == "https://data.example.cn/v1/licences/L1"
    assert policy["assigner"] == "https://data.example.cn/v1/participants/shop"
    assert policy["assignee"] == "https://data.example.cn/v1/participants/buyer"
    assert policy["target"] == "https://data.example.cn/v1/products/P1"
    assert actions(policy["permission"][0]["duty"]) == ["attribute", "delete"]
    assert actions(policy["prohibition"]) == ["distribute", "derive", "move"]

    graph = rdf(policy)
    agreement = URIRef(policy["uid"])
    assert (agreement, RDF.type, ODRL.Agreement) in graph
    assert graph.value(agreement, MKT.restsOn) == URIRef("https://data.example.cn/v1/grants/O")
    assert graph.value(agreement, MKT.registration) == URIRef(
        "https://data.example.cn/v1/registrations/REG-1"
    )
    [use] = graph.objects(agreement, ODRL.permission)
    assert graph.value(use, ODRL.action) == ODRL.use
    constraints = constraints_of(graph, use)
    assert constraints[(ODRL.purpose, ODRL.isAnyOf)] == [MKT["purpose-marketing"]]
    assert constraints[(ODRL.spatial, ODRL.eq)] == CHINA  # a place IRI, not the string "CN"
    assert constraints[(ODRL.dateTime, ODRL.lteq)].toPython() == T0 + 30 * 24 * HOUR
    assert constraints[(ODRL["count"], ODRL.lteq)] == Literal(50)


@pytest.mark.parametrize(
    ("redistribution", "onward", "personal", "territory", "quota"),
    list(product([False, True], [False, True], [False, True], list(Territory), [None, 10])),
)
def test_a_licence_of_each_kind_uses_only_odrl_terms_and_validates(
    redistribution: bool, onward: bool, personal: bool, territory: Territory, quota: int | None
) -> None:
    policy = licence_to_odrl(
        licence(
            redistribution_allowed=redistribution,
            onward_processing_allowed=onward,
            contains_personal_data=personal,
            territory=territory,
            quota=quota,
        ),
        IRIS,
    )
    graph = rdf(policy)
    assert_odrl_shapes(graph)
    permitted = {graph.value(rule, ODRL.action) for rule in graph.objects(None, ODRL.permission)}
    prohibited = {graph.value(rule, ODRL.action) for rule in graph.objects(None, ODRL.prohibition)}
    assert (ODRL.distribute in permitted) is redistribution is not (ODRL.distribute in prohibited)
    assert (ODRL.derive in permitted) is onward is not (ODRL.derive in prohibited)
    consent = {graph.value(d, ODRL.action) for d in graph.objects(None, ODRL.duty)} & {ODRL.obtainConsent}
    assert bool(consent) is (onward and personal)  # fresh consent on re-processing (Art. 43)
    # The operating right is domestic: whatever the template asked, nothing leaves China (Art. 88).
    assert ODRL.move in prohibited


def assert_odrl_shapes(graph: Graph) -> None:
    """The W3C POE working group's draft ODRL shapes (non-normative), as a second opinion."""
    shapes = Graph().parse(standard("odrl-2.2/odrlapi.ttl"), format="turtle")
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text


def test_an_offer_states_terms_price_and_profile() -> None:
    template = LicenceTemplate(
        permitted_purposes=frozenset({Purpose.RISK_CONTROL, Purpose.AI_TRAINING}),
        scenarios=("scoring",),
        term_days=365,
        quota=1000,
        onward_processing_allowed=True,
        contains_personal_data=True,
    )
    policy = offer_to_odrl(
        template,
        IRIS,
        product_id="P1",
        seller_id="shop",
        price=OfferPrice(Decimal("500.00"), "CNY", "metered"),
    )
    graph = rdf(policy)
    assert_odrl_shapes(graph)
    offer = URIRef("https://data.example.cn/v1/products/P1/offer")
    assert {ODRL.Offer, ODRL.Policy} <= set(graph.objects(offer, RDF.type))
    assert graph.value(offer, ODRL.profile) == URIRef("https://data.example.cn/ns/market")
    assert graph.value(offer, MKT.pricePlanKind) == MKT["plan-metered"]
    use = next(r for r in graph.objects(offer, ODRL.permission) if graph.value(r, ODRL.action) == ODRL.use)
    constraints = constraints_of(graph, use)
    assert constraints[(ODRL.purpose, ODRL.isAnyOf)] == [
        MKT["purpose-ai-training"],
        MKT["purpose-risk-control"],
    ]
    assert str(constraints[(ODRL.elapsedTime, ODRL.lteq)]) == "P365D"
    [pay] = [
        c
        for d in graph.objects(use, ODRL.duty)
        if graph.value(d, ODRL.action) == ODRL.compensate
        for c in graph.objects(d, ODRL.constraint)
    ]
    assert value(graph.value(pay, ODRL.rightOperand)) == Decimal("500.00")
    assert graph.value(pay, ODRL.unit) == URIRef(
        "http://publications.europa.eu/resource/authority/currency/CNY"
    )


def test_export_is_deterministic() -> None:
    first = json.dumps(licence_to_odrl(licence(), IRIS))
    assert first == json.dumps(licence_to_odrl(licence(), IRIS))


def test_a_root_holding_right_is_a_set_and_a_granted_right_an_agreement() -> None:
    root_policy = grant_to_odrl(ROOT, IRIS)
    assert root_policy["@type"] == "Set" and "assigner" not in root_policy
    assert actions(root_policy["permission"]) == ["use", "transfer", "grantUse"]
    assert "prohibition" not in root_policy  # cross-border holding right
    assert root_policy["mkt:rightKind"] == {"@id": "mkt:right-holding"}
    rdf(root_policy)

    proc = child("P", ROOT, scope=scope(Purpose.ACADEMIC_RESEARCH))
    policy = grant_to_odrl(proc, IRIS, assigner_id=ROOT.holder_id)
    assert json.loads(json.dumps(policy)) == policy
    assert policy["@type"] == "Agreement"
    assert policy["assigner"] == "https://data.example.cn/v1/participants/seller"
    assert policy["target"] == "https://data.example.cn/v1/resources/R1"
    assert actions(policy["prohibition"]) == ["move", "grantUse"]
    assert_odrl_shapes(rdf(policy))


def test_a_granted_right_needs_its_assigner() -> None:
    with pytest.raises(ContractError) as caught:
        grant_to_odrl(child("P", ROOT), IRIS)
    assert caught.value.code == "assigner_required"
