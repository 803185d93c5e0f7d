"""Domain errors and their one rendering as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts import ContractError

PROBLEM_BASE = "https://jilin-data-exchange.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("market.errors")


# SQLSTATEs meaning the server ended, refused or rolled back the work through no fault of the
# request: connection exceptions (class 08), administrator / crash shutdown, "the database system
# is starting up / shutting down" (asyncpg reports these as plain errors, not disconnects), too
# many connections, and a serialisation failure or deadlock (the transaction was rolled back
# whole, so the same request, with the same Idempotency-Key, is safe to send again).
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300", "40001", "40P01")


def _sqlstates(error: BaseException) -> Iterator[str]:
    """The SQLSTATEs along the error, the driver error it wraps and their causes."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str):
            yield state
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def _data_exception(error: BaseException) -> bool:
    return isinstance(error, sa_exc.DBAPIError) and any(s.startswith("22") for s in _sqlstates(error))


# Set on a database error whose request may safely run again (its connection was dead before
# the request used it), and on the request's state when such an error is answered.
RETRY_SAFE = "market_retry_safe"


def database_unavailable(error: BaseException) -> bool:
    """The request failed because the database was unreachable or busy, or dropped the connection."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.OperationalError):
        return True
    return any(s.startswith("08") or s in _UNAVAILABLE_SQLSTATES for s in _sqlstates(error))


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted location of the offending input, e.g. body.credit_code")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the offending fields for validation errors."""

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] = Field(default_factory=list)


class MarketError(Exception):
    """Base of every domain error: a stable code, a message and the HTTP status it maps to."""

    code = "market-error"
    title = "Request failed"
    status = 400
    headers: ClassVar[dict[str, str] | None] = None  # e.g. Retry-After on a 503
    # A refusal whose record must survive it (the decision that refused, and its audit entry):
    # the request's transaction commits before the problem is sent, instead of rolling back.
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: Sequence[tuple[str, str]] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = list(fields)
        self.extra = extra or {}

    def response_headers(self) -> dict[str, str] | None:
        """Headers of the problem response (a subclass may compute them, e.g. Retry-After)."""
        return self.headers


class InvalidInput(MarketError):
    code, title, status = "validation-error", "Invalid input", 422


class NotFound(MarketError):
    code, title, status = "not-found", "Not found", 404


class Unauthenticated(MarketError):
    code, title, status = "unauthenticated", "Authentication required", 401


class Forbidden(MarketError):
    code, title, status = "forbidden", "Not allowed", 403


class Conflict(MarketError):
    code, title, status = "conflict", "Conflict", 409


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    request: Request | None = None,
    fields: Sequence[tuple[str, str]] = (),
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": f, "reason": r} for f, r in fields],
    }
    if request is not None:
        body["instance"] = request.url.path
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*errors: type[MarketError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route, so OpenAPI lists the problems it can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    all_errors: tuple[type[MarketError], ...] = (InvalidInput, *errors)
    for err in all_errors:
        out[err.status] = {
            "model": Problem,
            "description": err.title,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
    return out


# A request's validation errors found by a dependency before FastAPI validates the body (the
# hot routes' `Idempotency-Key`, market.orders.buyer_call): answered with the body's, if it has
# any, in one 422, as FastAPI names every parameter's and the body's errors together.
_FOUND_FIRST = "market.validation_errors_found_first"


def defer_validation_errors(request: Request, invalid: RequestValidationError) -> None:
    """Keep `invalid` for the request's 422, should its body be invalid too (otherwise the
    caller raises `invalid` itself)."""
    request.scope[_FOUND_FIRST] = invalid


def _validation_fields(exc: RequestValidationError) -> tuple[list[tuple[str, str]], bool]:
    fields = []
    malformed = False
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
            fields.append(("body", _json_position(exc.body, err)))
            continue
        loc = tuple(err.get("loc", ()))
        if loc[:1] == ("body",):
            fields.append(field_problem(loc[1:], err, exc.body, "body"))
        else:
            fields.append(field_problem(loc, err, None, ""))
    return fields, malformed


def _json_position(document: Any, err: Mapping[str, Any]) -> str:
    """Where the JSON broke, as a person counts: line and column, not a character offset."""
    reason = str((err.get("ctx") or {}).get("error") or "invalid JSON")
    offset = err["loc"][1] if len(err.get("loc", ())) > 1 else None
    if not isinstance(document, str) or not isinstance(offset, int):
        return f"not valid JSON: {reason}"
    line = document.count("\n", 0, offset) + 1
    column = offset - (document.rfind("\n", 0, offset) + 1) + 1
    return f"not valid JSON at line {line}, column {column}: {reason}"


def _path_in(data: Any, loc: Sequence[Any]) -> tuple[list[str], Any]:
    """`loc` as a path through the data actually sent, and the value found at its end.

    pydantic puts the tag of a discriminated union into the location (`price_plan.one_off.price`)
    although the body has no such key; a segment that is not a key of the object it would index,
    but is one of that object's values (its `kind`), is that tag, and is left out.
    """
    path: list[str] = []
    current = data
    for segment in loc:
        if isinstance(current, dict):
            if segment not in current and segment in current.values():
                continue
            current = current.get(segment)
        elif isinstance(current, list) and isinstance(segment, int) and 0 <= segment < len(current):
            current = current[segment]
        else:
            current = None
        path.append(str(segment))
    return path, current


def field_problem(loc: Sequence[Any], err: Mapping[str, Any], data: Any, prefix: str) -> tuple[str, str]:
    """One (field, reason) for a pydantic error at `loc` inside `data` (sent under `prefix`)."""
    path, value = _path_in(data, loc)
    ctx = err.get("ctx") or {}
    if "discriminator" in ctx:  # a discriminated union's tag missing or unknown
        discriminator = str(ctx.get("discriminator", "kind")).strip("'")
        field = ".".join(p for p in (prefix, *path, discriminator) if p)
        name = field.removeprefix("body.")
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        one_of = f": one of {expected}" if expected else ""
        sent = value.get(discriminator) if isinstance(value, dict) else None
        reason = (
            f"{name} {sent!r} is not known{one_of}" if sent is not None else f"{name} is required{one_of}"
        )
        return field, reason
    return ".".join(p for p in (prefix, *path) if p), str(err.get("msg", "invalid"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MarketError)
    async def _market_error(request: Request, exc: MarketError) -> JSONResponse:
        if isinstance(answer := getattr(exc, "answer", None), JSONResponse):
            return answer  # an idempotent request answered before: its first response
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else exc.response_headers()
        return problem_response(
            exc.status, exc.code, exc.title, exc.message, request, exc.fields, exc.extra, headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        found_first = request.scope.get(_FOUND_FIRST)
        if isinstance(found_first, RequestValidationError) and found_first is not exc:
            exc = RequestValidationError([*found_first.errors(), *exc.errors()], body=exc.body)
        fields, malformed = _validation_fields(exc)
        if malformed:
            return problem_response(
                400,
                "malformed-json",
                "Malformed JSON",
                "The body is not valid JSON.",
                request,
                fields,
            )
        detail = "; ".join(f"{f}: {r}" for f, r in fields)
        return problem_response(422, "validation-error", "Invalid input", detail, request, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, f"http-{exc.status_code}"
        )
        return problem_response(
            exc.status_code,
            code,
            str(exc.detail),
            str(exc.detail),
            request,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(ContractError)
    async def _contract(request: Request, exc: ContractError) -> JSONResponse:
        # Raised by the contracts library's own validators (e.g. an unknown purpose inside a
        # licence template); it is deliberately not a ValueError, so pydantic does not wrap it.
        field = exc.field if exc.field.startswith(("body", "query", "path")) else f"body.{exc.field}"
        return problem_response(
            422,
            f"contract-{exc.code}".replace("_", "-"),
            "Invalid terms",
            str(exc),
            request,
            [(field, exc.reason)],
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            500,
            "internal-error",
            "Internal error",
            "The server failed; the request was rolled back. It has been logged.",
            request,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A unique/foreign-key race lost to a concurrent request: the transaction rolled back.
        log.info("integrity conflict", extra={"error": str(exc.orig)})
        return problem_response(
            409,
            "conflict",
            "Conflict",
            "The request conflicts with the current state; retry.",
            request,
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # Unreachable, restarting or busy database, or a connection lost mid-request: the
        # transaction did not commit (or its outcome is unknown), and a retry may well succeed.
        if _data_exception(exc):
            # PostgreSQL refused a value the request carried (SQLSTATE class 22: a NUL byte, a
            # number or date out of range) that no validator caught: the input's fault, not ours.
            log.warning("database refused a value", extra={"path": request.url.path})
            return problem_response(
                422,
                "validation-error",
                "Invalid input",
                "A value in the request is out of the range the service can store or compare.",
                request,
            )
        if not database_unavailable(exc):
            raise exc  # a fault of ours, not of the database: the 500 handler logs it
        if getattr(exc, RETRY_SAFE, False):
            setattr(request.state, RETRY_SAFE, True)  # run again once (db.session.RetryDroppedConnection)
        log.warning(
            "database unavailable",
            extra={"path": request.url.path, "error": str(getattr(exc, "orig", None) or exc)},
        )
        return _database_unavailable(request)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for the whole pool timeout: overload, not a bug.
        log.warning("database connection pool exhausted", extra={"path": request.url.path})
        return _database_unavailable(request)

    def _database_unavailable(request: Request) -> JSONResponse:
        return problem_response(
            503,
            "database-unavailable",
            "Service unavailable",
            "The database is unavailable or busy, or the connection to it was lost before the "
            "request was confirmed. Retry later; an operation that takes an Idempotency-Key is safe "
            "to retry with the same key.",
            request,
            headers={"Retry-After": "1"},
        )


def invalid_from_validation(
    exc: Any, prefix: str = "body", message: str = "invalid input", data: Any = None
) -> InvalidInput:
    """Turn a pydantic ValidationError raised inside a service into a 422 naming each field.

    `data` is what was validated, so a discriminated union's error names the branch sent."""
    fields = [field_problem(tuple(err.get("loc", ())), err, data, prefix) for err in exc.errors()]
    detail = "; ".join(f"{f}: {r}" for f, r in fields)
    return InvalidInput(f"{message}: {detail}", fields=fields)
