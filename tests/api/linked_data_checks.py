"""Validation of the exchange's documents against the published standards, offline.

The standards (DCAT-AP 3.0.1 SHACL shapes, the ODRL 2.2 vocabulary and JSON-LD context) are kept
as data in `../shared/standards/` beside the repository (the nearest `shared/standards` above
it), with their sources and hashes in its SOURCES.md. Tests that need them are skipped, saying
so, only when that directory is absent.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyshacl import validate
from rdflib import OWL, RDF, RDFS, SH, Graph, Literal, Namespace, URIRef

REPOSITORY = Path(__file__).resolve().parents[2]
# `../shared/standards` from the repository; a worktree nested one level deeper finds the same
# directory further up.
STANDARDS = next(
    (d / "shared" / "standards" for d in REPOSITORY.parents if (d / "shared" / "standards").is_dir()),
    REPOSITORY.parent / "shared" / "standards",
)
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
# The 3.0.x shapes say `sh:shape :DateOrDateTimeDataType_Shape`, which is no SHACL term, where
# 2.1.1 said `sh:node`; the date shapes are checked both as written and as meant.
MISSPELT_NODE = URIRef("http://www.w3.org/ns/shacl#shape")


def standard(relative: str) -> Path:
    path = STANDARDS / relative
    if not path.exists():
        pytest.skip(f"the standards data is not at {STANDARDS} (see SOURCES.md there): {relative} missing")
    return path


@cache
def dcat_ap_shapes(date_shapes_as_node: bool) -> Graph:
    """DCAT-AP 3.0.1 "Base" (mandatory, cardinality, node kinds) and "Ranges" (classes) shapes."""
    shapes = Graph()
    for name in ("shapes.ttl", "range.ttl"):
        shapes.parse(standard(f"dcat-ap-3.0.1/{name}"), format="turtle")
    if date_shapes_as_node:
        for subject, _, shape in list(shapes.triples((None, MISSPELT_NODE, None))):
            shapes.remove((subject, MISSPELT_NODE, shape))
            shapes.add((subject, SH.node, shape))
    return shapes


def graph_of(document: dict[str, Any] | str, media_type: str = "application/ld+json") -> Graph:
    """The document's RDF, parsed offline: its context must be inline (no remote context)."""
    if media_type.startswith("text/turtle"):
        return Graph().parse(data=str(document), format="turtle")
    assert isinstance(document, dict)
    context = document.get("@context")
    assert isinstance(context, dict), f"the context must be inline, not {context!r}"
    return Graph().parse(data=json.dumps(document), format="json-ld")


def violations(data: Graph, *, date_shapes_as_node: bool) -> list[str]:
    """Every DCAT-AP violation (severity Violation) of `data`, one line each."""
    conforms, report, _ = validate(
        data,
        shacl_graph=dcat_ap_shapes(date_shapes_as_node),
        inference="none",
        allow_warnings=True,
        advanced=False,
    )
    assert isinstance(report, Graph)
    lines = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if report.value(result, SH.resultSeverity) != SH.Violation:
            continue
        focus, path = report.value(result, SH.focusNode), report.value(result, SH.resultPath)
        lines.append(f"{focus} {path}: {report.value(result, SH.resultMessage)}")
    assert conforms == (not lines), "pyshacl's verdict and its report disagree"
    return sorted(lines)


@cache
def odrl_vocabulary() -> Graph:
    return Graph().parse(standard("odrl-2.2/ODRL22.ttl"), format="turtle")


@cache
def odrl_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(standard("odrl-2.2/odrl.jsonld").read_text(encoding="utf-8"))[
        "@context"
    ]
    return context


def odrl_terms_outside_vocabulary(data: Graph) -> list[str]:
    """Every ODRL-namespace IRI `data` uses that ODRL 2.2 does not define, or deprecates."""
    vocabulary = odrl_vocabulary()
    used = {node for triple in data for node in triple if isinstance(node, URIRef) and node.startswith(ODRL)}
    problems = []
    for iri in sorted(used):
        if (iri, RDFS.isDefinedBy, None) not in vocabulary and (iri, RDF.type, None) not in vocabulary:
            problems.append(f"{iri} is not in the ODRL 2.2 vocabulary")
        elif (iri, OWL.deprecated, Literal(True)) in vocabulary:
            problems.append(f"{iri} is deprecated in ODRL 2.2")
    return problems


def unresolved_iris(data: Graph) -> list[str]:
    """IRIs that are not web or mail addresses: a compact IRI whose prefix the context lacks."""
    return sorted(
        {
            str(node)
            for triple in data
            for node in triple
            if isinstance(node, URIRef) and not str(node).startswith(("http://", "https://", "mailto:"))
        }
    )


def language(node: object) -> str | None:
    assert isinstance(node, Literal), f"{node!r} is not a literal"
    return node.language


def value(node: object) -> Any:
    assert isinstance(node, Literal), f"{node!r} is not a literal"
    return node.toPython()


def assert_conforms(document: dict[str, Any] | str, media_type: str = "application/ld+json") -> Graph:
    """The document parses offline, meets DCAT-AP 3.0.1 (both readings of the date shapes),
    names only real ODRL terms and leaves no prefix unbound. Returns its graph."""
    data = graph_of(document, media_type)
    assert len(data) > 0
    assert unresolved_iris(data) == []
    assert odrl_terms_outside_vocabulary(data) == []
    assert violations(data, date_shapes_as_node=False) == []
    assert violations(data, date_shapes_as_node=True) == []
    return data
