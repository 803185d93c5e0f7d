"""Linked data on the wire: content negotiation, JSON-LD and Turtle answers, tagged texts.

Every object's IRI is its API address (`market.common.iris`). An endpoint answers its usual
JSON unless the client prefers `application/ld+json` or `text/turtle` (`LinkedDataWanted`);
documents that exist only as linked data (the catalogue, offers, the vocabulary) answer
JSON-LD unless Turtle is preferred, and 406 when the client accepts neither (`LinkedDataFormat`).
Every document carries its context inline, so Turtle is the same graph parsed offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from market.errors import MarketError

LD_JSON = "application/ld+json"
TURTLE = "text/turtle"
JSON = "application/json"
LINKED_DATA_TYPES = (LD_JSON, TURTLE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class NotAcceptable(MarketError):
    code, title, status = "not-acceptable", "No acceptable representation", 406


def _accepted(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def preferred(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the `Accept` header ranks highest (ties: first offered), or None.

    A type's quality is that of its most specific matching range (`text/turtle` over `text/*`
    over `*/*`); no header accepts anything.
    """
    if not accept:
        return offered[0] if offered else None
    ranges = _accepted(accept)
    best_quality, chosen = 0.0, None
    for media in offered:
        kind = media.split("/")[0]
        matches = [
            (3 if r == media else 2 if r == f"{kind}/*" else 1, q)
            for r, q in ranges
            if r in (media, f"{kind}/*", "*/*")
        ]
        quality = max(matches)[1] if matches else 0.0
        if quality > best_quality:  # strictly: on a tie the type offered first stays
            best_quality, chosen = quality, media
    return chosen


def _vary(response: Response) -> None:
    response.headers["Vary"] = "Accept"


async def linked_data_wanted(request: Request, response: Response) -> str | None:
    """For an API object: the linked-data media type the client prefers over JSON, or None."""
    _vary(response)
    chosen = preferred(request.headers.get("accept"), (JSON, LD_JSON, TURTLE))
    return chosen if chosen in LINKED_DATA_TYPES else None


async def linked_data_format(request: Request, response: Response) -> str:
    """For a linked-data document: JSON-LD (also for plain JSON) or Turtle; 406 for neither."""
    _vary(response)
    chosen = preferred(request.headers.get("accept"), (LD_JSON, TURTLE, JSON))
    if chosen is None:
        raise NotAcceptable(
            f"this document is served as {LD_JSON} or {TURTLE}; the Accept header allows neither"
        )
    return LD_JSON if chosen == JSON else chosen


LinkedDataWanted = Annotated[str | None, Depends(linked_data_wanted)]
LinkedDataFormat = Annotated[str, Depends(linked_data_format)]
LINKED_DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            LD_JSON: {"schema": {"type": "object", "required": ["@context"], "description": "JSON-LD"}},
            TURTLE: {"schema": {"type": "string", "description": "RDF 1.1 Turtle"}},
        },
        "description": "The object (or document) as linked data.",
    }
}


def to_turtle(document: Mapping[str, Any]) -> str:
    """The document's graph in Turtle (its context is inline: nothing is fetched)."""
    from rdflib import Graph  # imported on first use: only Turtle answers need it

    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    context = document.get("@context", {})
    for prefix, namespace in context.items() if isinstance(context, dict) else ():
        if isinstance(namespace, str) and namespace.endswith(("/", "#")):
            graph.bind(prefix, namespace, replace=True)
    return graph.serialize(format="turtle")


async def linked_data_response(document: Mapping[str, Any], media_type: str) -> Response:
    """The document as the negotiated media type, marked as varying with `Accept`."""
    headers = {"Vary": "Accept"}
    if media_type == TURTLE:
        body = await run_in_threadpool(to_turtle, document)
        return Response(body, media_type=f"{TURTLE}; charset=utf-8", headers=headers)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Response(text, media_type=LD_JSON, headers=headers)


def text(value: str) -> dict[str, str]:
    """A text with its language tag: `zh` when it holds Chinese characters, else `en`."""
    return {"@value": value, "@language": "zh" if _CJK.search(value) else "en"}


def texts(zh: str, en: str) -> list[dict[str, str]]:
    """The same text in Chinese and English, each tagged."""
    return [{"@value": zh, "@language": "zh"}, {"@value": en, "@language": "en"}]


def date_time(value: datetime) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def ref(iri: str) -> dict[str, str]:
    return {"@id": iri}
