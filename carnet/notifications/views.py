"""The SMS provider's webhooks: patients' replies and delivery receipts (Vonage).

No session and no CSRF token: the provider calls them, and each call is
trusted only once its signature is checked (carnet.notifications.sms), so an
unsigned "2" cancels nothing. Vonage may call with GET (query parameters) or
POST (a form or a JSON body), as set in its dashboard; every way gives the
same flat string parameters. The answers: 404 when SMS is not configured, 401
for a missing, bad or stale signature (nothing changed), and 200 otherwise,
even when nothing matched, since the provider retries any other answer. The
parameters hold a phone number and a text: they are never logged.
"""

import json
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from carnet.notifications.config import sms_config
from carnet.notifications.receipts import record_receipt, record_reply
from carnet.notifications.sms import (
    SmsWebhookError,
    VonageConfig,
    parse_delivery_receipt,
    parse_inbound,
)

logger = logging.getLogger(__name__)

# Refusals of the caller (not Vonage, or a replay): 401. Any other
# SmsWebhookError is a genuine call Carnet has no use for: 200, nothing done.
UNAUTHENTIC = frozenset(
    {"unsigned", "bad-signature", "bad-timestamp", "stale", "wrong-account"}
)


def _flat(value: object) -> str | None:
    """A JSON member as the string a query parameter would carry; None for objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _params(request: HttpRequest) -> dict[str, str]:
    """The call's parameters: the query's, and a form or JSON body's over them."""
    params = {name: request.GET.get(name, "") for name in request.GET}
    if request.method != "POST":
        return params
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return params
        if isinstance(body, dict):
            for name, value in body.items():
                flat = _flat(value)
                if flat is not None:
                    params[str(name)] = flat
        return params
    params.update({name: request.POST.get(name, "") for name in request.POST})
    return params


def _answer(status: int) -> HttpResponse:
    response = HttpResponse(status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _webhook(
    request: HttpRequest, handle: Callable[[dict[str, str], VonageConfig], None]
) -> HttpResponse:
    config = sms_config()
    if config is None:
        return _answer(404)
    try:
        handle(_params(request), config)
    except SmsWebhookError as exc:
        if exc.code == "not-configured":
            return _answer(404)
        logger.warning("SMS webhook call refused: %s", exc.code)
        return _answer(401 if exc.code in UNAUTHENTIC else 200)
    return _answer(200)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """A patient's SMS reply: "1" confirms, "2" cancels (carnet.notifications.receipts)."""

    def handle(params: dict[str, str], config: VonageConfig) -> None:
        now = timezone.now()
        record_reply(sms=parse_inbound(params, config=config, now=now), now=now)

    return _webhook(request, handle)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sms_receipt(request: HttpRequest) -> HttpResponse:
    """A delivery receipt for one part of an SMS we sent."""

    def handle(params: dict[str, str], config: VonageConfig) -> None:
        now = timezone.now()
        record_receipt(
            receipt=parse_delivery_receipt(params, config=config, now=now), now=now
        )

    return _webhook(request, handle)
