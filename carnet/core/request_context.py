"""Per-request context (request id, client address) readable anywhere without a request object."""

import contextvars
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=""
)
_client_ip: contextvars.ContextVar[str] = contextvars.ContextVar(
    "client_ip", default=""
)

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def get_request_id() -> str:
    """The current request's id, or "" outside a request."""
    return _request_id.get()


def get_client_ip() -> str:
    """The current request's client address, or "" outside a request.

    Never log or store it as is: pseudonymise it first (audit does).
    """
    return _client_ip.get()


class RequestContextMiddleware:
    """Give each request an id (or keep a well-formed X-Request-ID) and expose it.

    The id is echoed in the X-Request-ID response header so that a user's
    report can be matched with the logs and the audit trail.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = _request_id.set(request_id)
        ip_token = _client_ip.set(request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(id_token)
            _client_ip.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response
