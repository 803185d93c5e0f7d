"""What every console page shares: the cookie session, CSRF tokens, the language and rendering.

The session cookie holds the same signed access token the API issues (`market.auth.tokens`), so
a console user is exactly the API's principal with the same roles; it is HttpOnly, SameSite=Strict
and, in production, Secure. Every form carries a CSRF token: an HMAC, under a key derived from
the root secret, of the cookie that identifies the browser (the session once logged in, a random
pre-session cookie before), so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jwt
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from market.auth.principal import Principal
from market.auth.tokens import decode_token
from market.common.keys import derive_key
from market.console.i18n import LANGUAGES, translate
from market.runtime import get_runtime
from market.settings import Settings

SESSION_COOKIE = "market_console"
PRE_SESSION_COOKIE = "market_console_pre"
LANG_COOKIE = "market_console_lang"
FLASH_COOKIE = "market_console_flash"
PACKAGE_DIR = Path(__file__).resolve().parent

templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))


class ConsoleRedirect(Exception):  # a control-flow signal, not an error
    """Raised by a page that needs a login (or another page): the handler answers 303."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class ConsoleForbidden(Exception):
    """A logged-in user without the role the page needs."""


def csrf_key(settings: Settings) -> bytes:
    return derive_key(settings.root_secrets()[0], "console-csrf-v1")


def csrf_token(settings: Settings, anchor: str) -> str:
    return hmac.new(csrf_key(settings), anchor.encode(), hashlib.sha256).hexdigest()


@dataclass
class Visitor:
    """Who is looking at a page, in which language, and the token their forms must carry."""

    request: Request
    settings: Settings
    principal: Principal | None
    lang: str
    anchor: str
    new_anchor: bool
    flash: tuple[str, str] | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return csrf_token(self.settings, self.anchor)

    def t(self, key: str, **values: Any) -> str:
        return translate(self.lang, key, **values)

    def require(self, *roles: str) -> Principal:
        """The principal if they hold one of `roles` (any login when none are named)."""
        if self.principal is None:
            target = self.request.url.path
            if self.request.url.query:
                target += "?" + self.request.url.query
            raise ConsoleRedirect("/login?next=" + quote(target, safe=""))
        if roles and not self.principal.has(*roles):
            raise ConsoleForbidden(", ".join(roles))
        return self.principal

    def check_csrf(self, token: str) -> None:
        if not hmac.compare_digest(token.encode(), self.csrf.encode()):
            raise ConsoleForbidden("csrf")

    def secure(self) -> bool:
        return self.settings.mode == "production"

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(
            self.request,
            name,
            {"v": self, "t": self.t, "principal": self.principal, "languages": LANGUAGES, **context},
            status_code=status_code,
        )
        self.finish(response)
        return response

    def redirect(self, location: str, flash: tuple[str, str] | None = None) -> RedirectResponse:
        response = RedirectResponse(location, status_code=303)
        self.finish(response)
        if flash is not None:
            kind, message = flash
            response.set_cookie(
                FLASH_COOKIE,
                quote(f"{kind}:{message}", safe=""),
                httponly=True,
                samesite="strict",
                secure=self.secure(),
                path="/",
            )
        return response

    def finish(self, response: Response) -> None:
        if self.new_anchor:
            response.set_cookie(
                PRE_SESSION_COOKIE,
                self.anchor,
                httponly=True,
                samesite="strict",
                secure=self.secure(),
                path="/",
            )
        if self.flash is not None:
            response.delete_cookie(FLASH_COOKIE, path="/")
        if self.request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE,
                self.lang,
                max_age=365 * 86400,
                samesite="strict",
                secure=self.secure(),
                path="/",
            )

    def log_in(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.settings.jwt_ttl_seconds,
            httponly=True,
            samesite="strict",
            secure=self.secure(),
            path="/",
        )

    def log_out(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")


def _language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    # The exchange works in Chinese; a browser that prefers English gets English.
    return "en" if accept.startswith("en") else "zh"


def _flash(request: Request) -> tuple[str, str] | None:
    from urllib.parse import unquote

    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition(":")
    return (kind if kind in ("ok", "error") else "error", message[:500])


async def visitor(request: Request) -> Visitor:
    settings = get_runtime(request).settings
    principal = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            claims = decode_token(settings, token)
            principal = Principal(claims.user_id, claims.participant_id, claims.roles)
        except (jwt.InvalidTokenError, ValueError):
            principal = None  # expired or forged: treated as logged out
    pre = request.cookies.get(PRE_SESSION_COOKIE)
    new_anchor = not pre
    if principal is not None and token:
        anchor = token
    else:
        anchor = pre or secrets.token_urlsafe(32)
    return Visitor(
        request=request,
        settings=settings,
        principal=principal,
        lang=_language(request),
        anchor=anchor,
        new_anchor=new_anchor and principal is None,
        flash=_flash(request),
    )


Console = Annotated[Visitor, Depends(visitor)]
