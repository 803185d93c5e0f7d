"""How the console joins the application: its routers, its static files and its redirects."""

from __future__ import annotations

from decimal import Decimal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from market.auth.principal import require_roles
from market.auth.tokens import STAFF_ROLES
from market.console import (
    alert_pages,
    audit_pages,
    buying_pages,
    case_pages,
    credential_pages,
    operator_pages,
    oversight_pages,
    participant_pages,
    public_pages,
)
from market.console.i18n import translate
from market.console.web import PACKAGE_DIR, ConsoleForbidden, ConsoleRedirect, templates, visitor

ROUTERS = [
    public_pages.router,
    operator_pages.router,
    audit_pages.router,
    alert_pages.router,
    oversight_pages.router,
    participant_pages.router,
    buying_pages.router,
    credential_pages.router,
    case_pages.router,
]


def yuan(minor: int | None) -> str:
    """Integer fen shown as yuan, without a float anywhere."""
    if minor is None:
        return ""
    return f"¥{(Decimal(minor) / 100).quantize(Decimal('0.01'))}"


def install(app: FastAPI, api_docs: str = "public") -> None:
    """Serve the console, and the API docs from vendored assets as `api_docs` says: "public",
    "staff" (a staff bearer token or API key) or "off" (the app is built with its own docs off)."""
    templates.env.filters["yuan"] = yuan
    app.mount("/console/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="console-static")
    for router in ROUTERS:
        app.include_router(router)
    if api_docs == "public":
        app.include_router(public_pages.docs_router)
    elif api_docs == "staff":
        staff = Depends(require_roles(*sorted(STAFF_ROLES)))
        app.include_router(public_pages.docs_router, dependencies=[staff])

    @app.exception_handler(ConsoleRedirect)
    async def _redirect(request: Request, exc: ConsoleRedirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(ConsoleForbidden)
    async def _forbidden(request: Request, exc: ConsoleForbidden) -> Response:
        v = await visitor(request)
        key = "csrf_failed" if str(exc) == "csrf" else "forbidden"
        return v.render(
            "error.html", status_code=403, heading=translate(v.lang, key), message=translate(v.lang, key)
        )
