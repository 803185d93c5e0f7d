"""Every route dependency is a coroutine: FastAPI runs a plain `def` dependency in a worker
thread, a hand-off that cost about 0.3 ms of CPU on each hot request (issue 21). A dependency
that never waits is still written `async def`."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from market.app import create_app

# Dependencies of FastAPI's own that are classes (run in a thread), on routes off the hot path.
ALLOWED = {"OAuth2PasswordRequestForm"}


def _api_routes(routes: Any) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers nested
            yield from _api_routes(route.original_router.routes)


def _runs_in_a_thread(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return False
    if not inspect.isroutine(call) and not inspect.isclass(call):  # an instance: its __call__
        return not inspect.iscoroutinefunction(type(call).__call__)
    return True


def _threaded(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        call = dependency.call
        name = getattr(call, "__qualname__", type(call).__name__)
        if call is not None and _runs_in_a_thread(call) and name not in ALLOWED:
            yield f"{getattr(call, '__module__', '?')}.{name}"
        yield from _threaded(dependency)


def test_no_route_hands_a_dependency_to_a_worker_thread() -> None:
    routes = list(_api_routes(create_app().routes))
    assert len(routes) > 100, "route discovery broke: too few routes found"
    threaded = {
        f"{sorted(route.methods or ())[0]} {route.path}: {name}"
        for route in routes
        for name in _threaded(route.dependant)
    }
    assert not threaded, "plain-def dependencies (make them async def):\n" + "\n".join(sorted(threaded))
