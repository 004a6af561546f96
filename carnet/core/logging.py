"""Structured logs: one JSON object per line, scrubbed of personal data.

`ScrubFilter` goes on every handler: it merges a record's arguments into its
message and removes from it what must never reach a log (DESIGN invariant 5):
query strings (search terms), IP addresses, bearer tokens, calendar feed
tokens and other secrets, e-mail addresses, and long digit runs (phone
numbers, health insurance numbers).
Exceptions passed as arguments are reduced to their type: their text may quote
a request body.

`JsonFormatter` writes time (UTC), level, logger, message, request_id and a
whitelist of extra fields. An exception is written as its type and stack
frames, not its message, for the same reason (except for the few exception
types whose text names code, not data: MESSAGE_SAFE_EXCEPTIONS).
"""

import ipaddress
import json
import logging
import re
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from carnet.core.request_context import get_request_id

REDACTED = "[redacted]"

# Every pattern is linear in the text: a match can only start where a run of
# its characters starts, and nothing long is backtracked over (log lines can
# carry a client's path, which an attacker chooses).
_TOKEN = re.compile(r"""[^\s"'<>]+""")
_BEARER = re.compile(r"\bBearer\s+[^\s\"',;]+", re.IGNORECASE)
_CARNET_TOKEN = re.compile(r"\bcrt_[A-Za-z0-9_\-]+")
# An agenda's calendar feed URL is its own secret (/pro/feeds/<token>.ics): the
# path segment goes, however written, and so does a feed token anywhere else.
_FEED_PATH = re.compile(r"/feeds/[^\s\"'<>?#/]+")
_FEED_TOKEN = re.compile(r"\bcal_[A-Za-z0-9_\-]+")
# The one-click links of messages (/a/<token>/, /offers/<token>/) are bearer
# credentials too.
_LINK_PATH = re.compile(r"/(a|offers)/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
_INVITATION_TOKEN = re.compile(r"\binv_[A-Za-z0-9_\-]+")
_SECRET_PAIR = re.compile(
    r"\b(?P<key>(?:__Host-)?(?:sessionid|csrftoken|csrfmiddlewaretoken)|"
    r"password|passwd|secret|token|access_token|refresh_token|api_key|apikey)"
    r"(?P<sep>\s*[=:]\s*)[^\s;&,\"']+",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# Candidates only: ipaddress decides what is an address ("12:30:45" is not).
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?:%\w+)?(?![\w:])"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
# Nine digits or more, possibly grouped by spaces, dots, dashes or slashes:
# phone numbers, NIR / AHV / IBAN-like numbers. Dates and times stay.
_DIGIT_RUN = re.compile(
    r"(?<![\w+:.\-/])(?<!\d[ .\-/])\+?\d(?:[ .\-/]?\d){8,}+(?![\w:])"
)
# German health insurance number (a letter and nine digits) and Italian
# codice fiscale.
_NATIONAL_ID = re.compile(
    r"\b(?:[A-Z]\d{9}|[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z])\b", re.IGNORECASE
)


def _without_query(match: re.Match[str]) -> str:
    token = match.group(0)
    path, question, query = token.partition("?")
    if question and query and "/" in path:
        return f"{path}?{REDACTED}"
    return token


def _without_ip(match: re.Match[str]) -> str:
    candidate = match.group(0).split("%", 1)[0]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return match.group(0)
    return "[ip]"


def scrub(text: str) -> str:
    """`text` without query strings, IP addresses, secrets, e-mails and long numbers.

    A URL or path keeps its path and loses its query. Idempotent: scrubbing
    scrubbed text changes nothing.
    """
    text = _TOKEN.sub(_without_query, text)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    text = _CARNET_TOKEN.sub(f"crt_{REDACTED}", text)
    text = _FEED_PATH.sub(f"/feeds/{REDACTED}", text)
    text = _FEED_TOKEN.sub(f"cal_{REDACTED}", text)
    text = _LINK_PATH.sub(rf"/\1/{REDACTED}", text)
    text = _INVITATION_TOKEN.sub(f"inv_{REDACTED}", text)
    text = _SECRET_PAIR.sub(rf"\g<key>\g<sep>{REDACTED}", text)
    text = _EMAIL.sub("[email]", text)
    text = _IPV6.sub(_without_ip, text)
    text = _IPV4.sub(_without_ip, text)
    text = _NATIONAL_ID.sub("[id]", text)
    return _DIGIT_RUN.sub("[number]", text)


def _safe_arg(value: object) -> object:
    if isinstance(value, BaseException):
        return f"<{type(value).__name__}>"
    return value


def _record_request(record: logging.LogRecord) -> HttpRequest | None:
    request = getattr(record, "request", None)
    return request if isinstance(request, HttpRequest) else None


def _scrubbed_message(record: logging.LogRecord) -> str:
    """The record's message with its arguments merged in, exceptions reduced, scrubbed."""
    msg = _safe_arg(record.msg)
    args = record.args
    if isinstance(args, dict):
        args = {k: _safe_arg(v) for k, v in args.items()}
    elif args:
        args = tuple(_safe_arg(a) for a in args)
    message = str(msg)
    if args:
        try:
            message = message % args
        except (TypeError, ValueError, KeyError):
            message = f"{message} {args!r}"
    return scrub(message)


def _request_id(record: logging.LogRecord) -> str | None:
    """The record's own request id, its request's (Django's 4xx lines), or the current one."""
    request = _record_request(record)
    return (
        getattr(record, "request_id", None)
        or getattr(request, "request_id", None)
        or get_request_id()
        or None
    )


class ScrubFilter(logging.Filter):
    """Merge a record's arguments into its message and scrub it (see `scrub`).

    Also stamps the record with the current request id, while the request's
    context is still there. Put it on handlers: a logger's filters do not see
    records that propagate from its children.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record.msg` scrubbed, with no arguments left; never drops a record."""
        record.msg = _scrubbed_message(record)
        record.args = None
        record.request_id = _request_id(record)
        return True


DEFAULT_EXTRA_FIELDS = (
    "status_code",
    "method",
    "path",
    "duration_ms",
    "event",
    "code",
    "task",
    "task_id",
)


# Exceptions whose text names code, not data: their (scrubbed) message helps
# and cannot quote a request. Any other exception is logged by type only.
MESSAGE_SAFE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    ImproperlyConfigured,
    TemplateDoesNotExist,
    TemplateSyntaxError,
    ImportError,
    NameError,
    AttributeError,
    NotImplementedError,
    RecursionError,
)


def _frames(exc: BaseException) -> list[str]:
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    ]


def _describe(exc: BaseException, depth: int = 0) -> dict[str, Any]:
    """An exception's type and frames, and those of its cause.

    Its message only for MESSAGE_SAFE_EXCEPTIONS: any other may quote a request.
    """
    kind = type(exc)
    described: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
    if isinstance(exc, MESSAGE_SAFE_EXCEPTIONS):
        described["message"] = scrub(str(exc))
    described["frames"] = _frames(exc)
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and depth < 5:
        described["cause"] = _describe(cause, depth + 1)
    return described


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras.

    Only the extra fields named in `extra_fields` are written (scrubbed), so
    an object passed in `extra` never leaks by accident. The method and path
    of a request passed as `extra={"request": …}` (Django does) are written
    too; the path of a request never holds its query string.
    """

    def __init__(self, extra_fields: Iterable[str] = DEFAULT_EXTRA_FIELDS) -> None:
        super().__init__()
        self.extra_fields = tuple(extra_fields)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (scrubbed again: formatting is the last gate)."""
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": _scrubbed_message(record),
            "request_id": _request_id(record),
        }
        request = _record_request(record)
        if request is not None:
            payload["method"] = request.method
            payload["path"] = scrub(request.path)
        for field in self.extra_fields:
            value = getattr(record, field, None)
            if value is None:
                continue
            if isinstance(value, str):
                value = scrub(value)
            elif not isinstance(value, int | float | bool):
                value = scrub(str(value))
            payload[field] = value
        if record.exc_info and record.exc_info[1] is not None:
            payload["exception"] = _describe(record.exc_info[1])
        if record.stack_info:
            payload["stack"] = scrub(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)
