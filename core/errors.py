"""Problem details (RFC 9457) for every error the API returns.

Raise `Problem` (or one of its helpers) from services and handlers; Litestar's own validation and
HTTP errors are converted too. Bodies name the field that is wrong and never carry a stack trace.
"""
from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

log = logging.getLogger("guanjia.errors")

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error with an HTTP status, a title and optionally the fields at fault."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.errors = list(errors or [])
        if field is not None and not self.errors:
            self.errors.append({"field": field, "message": self.detail})
        self.extra = extra or {}

    def body(self, instance: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://guanjia.dev/problems/{self.status}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "Not found", f"No such {what}.")


def invalid(field: str, message: str) -> Problem:
    return Problem(422, "Invalid input", f"{field}: {message}", field=field)


def conflict(detail: str, **extra: Any) -> Problem:
    return Problem(409, "Conflict", detail, extra=extra)


def forbidden(detail: str = "Your role may not do this.") -> Problem:
    return Problem(403, "Forbidden", detail)


def _response(request: Request, problem: Problem) -> Response:
    headers = {}
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if problem.status == 503:
        headers["Retry-After"] = "5"
    return Response(
        content=problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_of(key: str | None, message: str) -> str:
    if key and key != "data":
        return key
    # msgspec messages look like "Expected `int`, got `str` - at `$.unit_id`"
    if "at `$." in message:
        return message.rsplit("at `$.", 1)[1].rstrip("`").replace("[", ".").replace("]", "")
    if "unknown field `" in message:
        return message.split("unknown field `", 1)[1].split("`", 1)[0]
    if "required field `" in message:
        return message.split("required field `", 1)[1].split("`", 1)[0]
    return key or ""


def problem_handler(request: Request, exc: Exception) -> Response:
    """The one exception handler of the app."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if status == 401 and request.url.path.startswith("/portal") and request.method == "GET":
        from litestar.response import Redirect

        return Redirect("/portal/login")
    if isinstance(exc, Problem):
        return _response(request, exc)
    if isinstance(exc, ValidationException):
        errors = []
        for item in exc.extra if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                message = str(item.get("message", ""))
                errors.append({"field": _field_of(item.get("key"), message), "message": message,
                               "source": item.get("source", "")})
        if not errors:
            errors.append({"field": _field_of(None, exc.detail), "message": exc.detail})
        first = errors[0]
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return _response(request, Problem(400 if "parse" in exc.detail.lower() else 422, "Invalid input", detail, errors=errors))
    if isinstance(exc, NotFoundException):
        return _response(request, Problem(404, "Not found", "No such resource."))
    if isinstance(exc, HTTPException):
        title = {401: "Not authenticated", 403: "Forbidden", 405: "Method not allowed", 413: "Payload too large",
                 429: "Too many requests"}.get(
            exc.status_code, "Error"
        )
        return _response(request, Problem(exc.status_code, title, str(exc.detail)))
    if isinstance(exc, RecursionError) and "deserializ" in str(exc):
        return _response(request, Problem(400, "Invalid input", "The request body is nested too deeply.", field="body"))
    if _is_database_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        return _response(request, Problem(503, "Service unavailable", "The database is not reachable; try again shortly."))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _response(request, Problem(500, "Internal error", "Something went wrong on our side; it has been logged."))


def _is_database_unavailable(exc: Exception) -> bool:
    chain = list(_chain(exc))
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectionRefusedError", "ConnectionDoesNotExistError", "CannotConnectNowError",
                "InterfaceError", "ConnectionResetError", "TooManyConnectionsError", "AdminShutdownError",
                "PostgresConnectionError", "OperationalError"}:
        return True
    # a session the server ended while asyncpg was between two steps of a statement
    if any(type(e).__name__ == "InternalClientError" and "another operation" in str(e) for e in chain):
        return True
    # a database closed to new sessions (maintenance, failover): SQLSTATE 55000 at connect time
    return any(type(e).__name__ == "ObjectNotInPrerequisiteStateError" and "accepting connections" in str(e)
               for e in chain)


def _chain(exc: BaseException | None):
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1


EXCEPTION_HANDLERS = {Exception: problem_handler}

__all__ = ["Problem", "not_found", "invalid", "conflict", "forbidden", "EXCEPTION_HANDLERS", "MediaType"]
