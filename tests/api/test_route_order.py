"""The routers' order (market.routes) is a matter of speed only: FastAPI tries them in turn, so
the purchase's come first; no path and method is served by two routers, so moving one never
changes which endpoint answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from starlette.routing import BaseRoute, Match

from market.routes import ROUTERS

SAMPLE = "00000000-0000-0000-0000-000000000000"


def _routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None and not hasattr(route, "endpoint"):
            yield from _routes(inner.routes)
        else:
            yield route


def test_no_path_and_method_is_served_by_two_routers(app: Any) -> None:
    owner = {id(route): n for n, router in enumerate(ROUTERS) for route in _routes(router.routes)}
    assert owner, "the feature routers have routes"
    clashes = []
    for route in _routes(app.router.routes):
        path = getattr(route, "path", None)
        if path is None or id(route) not in owner:
            continue
        concrete = re.sub(r"\{[^}]*\}", SAMPLE, path)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            scope = {"type": "http", "method": method, "path": concrete, "root_path": "", "headers": []}
            serving = {
                owner[id(other)]
                for other in _routes(app.router.routes)
                if id(other) in owner and other.matches(scope)[0] == Match.FULL
            }
            if len(serving) > 1:
                clashes.append(f"{method} {concrete}: routers {sorted(serving)}")
    assert not clashes, clashes


def test_a_purchase_is_matched_first(app: Any) -> None:
    def position(method: str, path: str) -> int:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
        return next(n for n, route in enumerate(app.router.routes) if route.matches(scope)[0] == Match.FULL)

    first_router = next(n for n, route in enumerate(app.router.routes) if hasattr(route, "original_router"))
    assert position("POST", "/v1/quotes") <= first_router + 1
    assert position("POST", "/v1/orders") <= first_router + 1
