"""Errors as RFC 9457 problem documents (application/problem+json), translated."""

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from carnet.core.errors import DomainError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
STATUS_BY_KIND = {"conflict": 409, "invalid": 422, "not_found": 404, "forbidden": 403}


def problem(
    *, status: int, code: str, title: str, detail: str = "", **extra: Any
) -> HttpResponse:
    """A problem+json response; `code` is stable, `title`/`detail` are translated."""
    body = {
        "type": f"urn:carnet:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return _("This field is required.")
    if kind == "timezone_aware":
        return _(
            "Times must carry a UTC offset, for example 2026-03-02T09:00:00+01:00."
        )
    if kind.startswith("string_too_long"):
        return _("This text is too long.")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return _("This value is out of range.")
    if kind == "value_error" and error.get("ctx", {}).get("message"):
        return str(error["ctx"]["message"])
    return _("This value is not valid.")


def _location(error: dict[str, Any]) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    """Route every error the API can raise through `problem`."""

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem(
            status=STATUS_BY_KIND.get(exc.kind, 422),
            code=exc.code,
            title=exc.render(),
            **exc.details,
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": _location(e), "message": _field_message(e)} for e in exc.errors
        ]
        return problem(
            status=422,
            code="invalid_request",
            title=_("Some fields are missing or invalid."),
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(
        request: HttpRequest, exc: AuthenticationError
    ) -> HttpResponse:
        response = problem(
            status=401, code="authentication_required", title=_("Please log in first.")
        )
        response["WWW-Authenticate"] = 'Bearer realm="carnet"'
        return response

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(status=404, code="not_found", title=_("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(status=exc.status_code, code="http_error", title=str(exc))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("unhandled API error", exc_info=exc, extra={"path": request.path})
        return problem(
            status=500,
            code="internal_error",
            title=_(
                "Something went wrong on our side. Nothing was changed; please try again."
            ),
        )
