"""The landing page (catalogue, registry lookup, latest checkpoint), logging in and out, and the
API documentation from vendored assets (no CDN: the docs work on a machine without internet)."""

from __future__ import annotations

import base64
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Form, Query, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

from market.audit.endpoints import tree_head
from market.audit.schemas import TreeHeadOut
from market.auth.tokens import TokenClaims, issue_token
from market.catalog import search
from market.catalog.models import Product
from market.console.web import Console, Visitor
from market.db.session import Session
from market.errors import MarketError, NotFound, Unauthenticated
from market.participants import service as participants
from market.ratelimits import Limits, RateLimits, TooManyRequests
from market.registry import public_register
from market.registry.certificates import verify_certificate
from market.registry.schemas import RegistryEntry

router = APIRouter(include_in_schema=False)
# The API documentation pages: mounted by `install` as the `api_docs` setting says (for anyone,
# for staff only, or not at all).
docs_router = APIRouter(include_in_schema=False)

VENDOR = "/console/static/vendor"


async def _products(session: Session, q: str | None) -> list[Product]:
    # The API's public catalogue search, first page.
    return await search.search(
        session,
        cursor=None,
        limit=20,
        q=q or None,
        category=None,
        grade=None,
        delivery_mode=None,
        min_price=None,
        max_price=None,
        seller_id=None,
    )


async def _head(v: Visitor, session: Session) -> TreeHeadOut | None:
    try:
        return await tree_head(v.settings, session)
    except MarketError:  # the log is stopped (inconsistent): the page says there is none
        return None


def rate_limited(v: Visitor, exc: TooManyRequests, *, fragment: bool = False) -> HTMLResponse:
    """A limit's refusal as a page: 429, Retry-After, and how long to wait in the page's words;
    as the notice alone (`fragment`) where htmx swaps it into a page already shown."""
    page = v.render(
        "limit_notice.html" if fragment else "error.html",
        status_code=429,
        heading=v.t("rate_limited_heading"),
        message=v.t("rate_limited", seconds=exc.retry_after),
    )
    page.headers["Retry-After"] = str(exc.retry_after)
    return page


async def over_public_limit(v: Visitor, limits: Limits, *, fragment: bool = False) -> HTMLResponse | None:
    """The API's per-IP limit on its public reads (catalogue search, register, tree head), which
    the landing page makes too; the page (or, `fragment`, the notice) that says so when it is
    reached."""
    try:
        await limits.per_ip("public", limits.settings.rate_limit_public_ip)
    except TooManyRequests as exc:
        return rate_limited(v, exc, fragment=fragment)
    return None


@router.get("/", response_class=HTMLResponse)
async def landing(
    v: Console,
    session: Session,
    limits: RateLimits,
    q: Annotated[str | None, Query(max_length=200)] = None,
    number: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    if refused := await over_public_limit(v, limits):
        return refused
    entry: RegistryEntry | None = None
    verification = None
    if number:
        try:
            entry = await public_register.public_entry(session, v.settings, number.strip())
        except NotFound:
            entry = None
        if entry is not None:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.exchange_public_key))
            verification = verify_certificate(entry.signed_certificate, key)
    return v.render(
        "index.html",
        products=await _products(session, q),
        q=q,
        number=number,
        entry=entry,
        verification=verification,
        head=await _head(v, session),
    )


@router.get("/console/catalogue", response_class=HTMLResponse)
async def catalogue_results(
    v: Console, session: Session, limits: RateLimits, q: Annotated[str | None, Query(max_length=200)] = None
) -> HTMLResponse:
    """The results table alone, for htmx to swap in (a refusal too: see base.html's htmx-config)."""
    if refused := await over_public_limit(v, limits, fragment=True):
        return refused
    return v.render("catalogue_results.html", products=await _products(session, q))


@router.get("/login", response_class=HTMLResponse)
async def login_form(v: Console, next: Annotated[str, Query(max_length=500)] = "/console") -> HTMLResponse:
    return v.render("login.html", next=_safe_next(next), email=None, error=None)


def _safe_next(target: str) -> str:
    # Only a path of this site: never an open redirect to another host.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console"
    return target


@router.post("/login", response_class=HTMLResponse)
async def login(
    v: Console,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=200)],
    session: Session,
    limits: RateLimits,
    next: Annotated[str, Form(max_length=500)] = "/console",
) -> Response:
    v.check_csrf(csrf)
    if "\x00" in email or "\x00" in password:  # as the API: no address or password holds one
        return v.render(
            "login.html", status_code=422, next=_safe_next(next), email=None, error=v.t("login_failed")
        )
    try:
        # The API's sign-in, so its limits (per IP, per account backoff and lock) hold here too.
        user = await participants.sign_in(session, limits, email, password)
    except TooManyRequests as exc:
        if exc.keeps_changes:  # a staff account's lock keeps its alert
            await session.commit()
        key = "login_locked" if exc.code == "account-locked" else "login_rate_limited"
        page = v.render(
            "login.html",
            status_code=429,
            next=_safe_next(next),
            email=email,
            error=v.t(key, seconds=exc.retry_after),
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthenticated:
        return v.render(
            "login.html", status_code=401, next=_safe_next(next), email=email, error=v.t("login_failed")
        )
    token = issue_token(v.settings, TokenClaims(user.id, user.participant_id, frozenset(user.roles)))
    response = v.redirect(_safe_next(next))
    v.log_in(response, token)
    return response


@router.post("/logout")
async def logout(v: Console, csrf: Annotated[str, Form(max_length=200)]) -> Response:
    v.check_csrf(csrf)
    response = v.redirect("/")
    v.log_out(response)
    return response


# The docs pages may load nothing from another host: ReDoc's bundle would otherwise fetch its
# "API docs by Redocly" logo from cdn.redoc.ly.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@docs_router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return _offline(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=request.app.title + " - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        )
    )


@docs_router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@docs_router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url="/openapi.json",
        title=request.app.title + " - ReDoc",
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )
    # The logo the CSP blocks is hidden rather than shown broken.
    body = bytes(page.body).replace(
        b"</head>", b'<style>img[src^="https://cdn.redoc.ly"]{display:none}</style></head>', 1
    )
    return _offline(HTMLResponse(body))
