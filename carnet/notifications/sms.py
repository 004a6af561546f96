"""SMS through the Vonage SMS API (formerly Nexmo): send, delivery receipts, replies.

A pure adapter: no ORM, no settings; the caller passes a `VonageConfig`. It
speaks Vonage's wire format (https://developer.vonage.com/messaging/sms):

* send: ``POST {base_url}/sms/json``, form-encoded, answered with JSON: one
  entry in ``messages`` per part of a long text, each with its own
  ``status`` ("0" is accepted) and ``message-id``;
* delivery receipts (one per part) and inbound SMS come to our webhooks as
  query or form parameters, signed with the account's signature secret
  (SHA-256 HMAC over the sorted parameters, see `compute_signature`).

Exactly once is the caller's job, helped here: every send carries our
idempotency key as ``client-ref`` (Vonage echoes it in each receipt), and a
failure says whether the provider may have accepted the message anyway
(`SmsError.maybe_sent`): a worker must not blindly resend those.

Phone numbers and message texts are personal data: they never appear in a
log line nor in an exception's text (exceptions end up in task results).
"""

import hashlib
import hmac
import http.client
import json
import logging
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

logger = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://rest.nexmo.com"
CLIENT_REF_MAX_LENGTH = 100
SIGNATURE_MAX_AGE = timedelta(minutes=5)
DEFAULT_TIMEOUT = 10.0  # seconds, for each connect, send and read

# GSM 03.38: the 7-bit default alphabet (without the escape code) and its
# extension table. A text using anything else must be sent as "unicode".
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7 = frozenset(GSM7_BASIC + GSM7_EXTENSION)

# Delivery receipt statuses after which Vonage sends no further receipt for
# the part. "unknown" is final: the carrier will not say more, and resending
# could deliver twice. "accepted" and "buffered" are on the way.
DLR_STATUSES = frozenset(
    {"delivered", "expired", "failed", "rejected", "accepted", "buffered", "unknown"}
)
FINAL_DLR_STATUSES = frozenset(
    {"delivered", "expired", "failed", "rejected", "unknown"}
)

# Vonage send statuses (https://developer.vonage.com/api-errors/sms):
# (our stable code, retryable). A status not listed is permanent.
SEND_STATUSES: Mapping[str, tuple[str, bool]] = {
    "1": ("throttled", True),
    "2": ("missing-params", False),
    "3": ("invalid-params", False),
    "4": ("invalid-credentials", False),
    "5": ("internal-error", True),
    "6": ("invalid-message", False),
    "7": ("number-barred", False),
    "8": ("account-barred", False),
    # "Partner quota violation": out of credit. Retrying with backoff lets the
    # reminders go out once an operator tops up, instead of being dropped.
    "9": ("quota-exceeded", True),
    "10": ("too-many-binds", True),
    "11": ("account-not-enabled", False),
    "12": ("message-too-long", False),
    "14": ("invalid-signature", False),
    "15": ("invalid-sender", False),
    "22": ("invalid-network-code", False),
    "23": ("invalid-callback-url", False),
    "29": ("non-whitelisted-destination", False),
    "32": ("signature-and-secret-disallowed", False),
    "33": ("number-deactivated", False),
}


@dataclass(frozen=True)
class VonageConfig:
    """Where and as whom to reach Vonage; secrets are kept out of repr()."""

    base_url: str
    api_key: str
    api_secret: str = field(repr=False)
    signature_secret: str = field(repr=False)
    sender: str  # the "from": an alphanumeric sender ID (≤ 11) or a number
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class SmsAccepted:
    """Vonage queued the text: one message id per part, in order."""

    message_ids: tuple[str, ...]
    parts: int


@dataclass(frozen=True)
class DeliveryReceipt:
    """One part's delivery receipt (DLR); `client_ref` is our idempotency key."""

    client_ref: str | None
    message_id: str
    status: str
    delivered: bool
    final: bool
    error_code: int | None


@dataclass(frozen=True)
class InboundSms:
    """A text a phone sent to our number; `sender` in E.164 ("+41791234567")."""

    sender: str
    text: str
    message_id: str


class SmsError(Exception):
    """A send that did not go through; `code` is stable, the text holds no personal data.

    `provider_status` is Vonage's status when it answered one. `maybe_sent`
    is true when Vonage may have accepted the message despite the error (the
    connection broke or timed out after the request went out, or some parts
    of a long text were accepted): resending then risks a duplicate.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self, code: str, *, provider_status: str | None = None, maybe_sent: bool = False
    ) -> None:
        self.code = code
        self.provider_status = provider_status
        self.maybe_sent = maybe_sent
        detail = (
            code if provider_status is None else f"{code} (status {provider_status})"
        )
        super().__init__(detail)


class SmsRetryableError(SmsError):
    """Try again later (with backoff): throttling, outage, network trouble."""

    retryable = True


class SmsPermanentError(SmsError):
    """Trying again cannot help: bad number, bad credentials, refused message."""


class SmsWebhookError(ValueError):
    """A webhook call we refuse: unsigned, badly signed, stale, or malformed.

    Codes: "not-configured", "unsigned", "bad-signature", "bad-timestamp",
    "stale", "wrong-account", "missing-field", "bad-sender", "unsupported-type".
    """

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def normalise_msisdn(number: str) -> str:
    """An international number as Vonage wants it: E.164 digits without "+".

    Accepts "+33 6 12 34 56 78", "0033612345678", "+41-79-123.45.67" and bare
    digits with their country code; raises ValueError (without echoing the
    number) for national numbers ("06…") and anything that is not 7 to 15 digits.
    """
    compact = "".join(c for c in number.strip() if c not in " .-()/\u00a0\u202f")
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        digits = compact
    if not (digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15):
        raise ValueError("not an international phone number")
    if digits[0] == "0":
        raise ValueError("not an international phone number")
    return digits


def needs_unicode(text: str) -> bool:
    """Whether `text` has a character outside the GSM 7-bit alphabet."""
    return any(character not in _GSM7 for character in text)


def send_sms(
    *,
    config: VonageConfig,
    to: str,
    text: str,
    client_ref: str,
    callback_url: str | None = None,
) -> SmsAccepted:
    """Send `text` to `to` with our idempotency key as client-ref; one request.

    Asks for delivery receipts at `callback_url` when given. Raises
    SmsPermanentError before any request for a bad number ("invalid-number"),
    an empty text ("empty-text"), a missing or too long client-ref
    ("client-ref-missing", "client-ref-too-long"); then SmsRetryableError or
    SmsPermanentError from Vonage's answer or the network (see SEND_STATUSES,
    "connection-failed", "connection-lost", "timeout", "http-<status>",
    "bad-response", "partially-sent").
    """
    try:
        msisdn = normalise_msisdn(to)
    except ValueError:
        raise SmsPermanentError("invalid-number") from None
    if not text:
        raise SmsPermanentError("empty-text")
    if not client_ref:
        raise SmsPermanentError("client-ref-missing")
    if len(client_ref) > CLIENT_REF_MAX_LENGTH:
        raise SmsPermanentError("client-ref-too-long")
    params = {
        "api_key": config.api_key,
        "api_secret": config.api_secret,
        "from": config.sender,
        "to": msisdn,
        "text": text,
        "client-ref": client_ref,
    }
    if needs_unicode(text):
        params["type"] = "unicode"
    if callback_url:
        params["callback"] = callback_url
        params["status-report-req"] = "1"
    body = urllib.parse.urlencode(params).encode("ascii")
    try:
        status, payload = _post(config=config, path="/sms/json", body=body)
        accepted = _read_send_response(status=status, payload=payload)
    except SmsError as error:
        logger.warning(
            "Vonage did not take an SMS: %s (retryable=%s, maybe_sent=%s)",
            error.code,
            error.retryable,
            error.maybe_sent,
        )
        raise
    logger.info("Vonage accepted an SMS in %d part(s)", accepted.parts)
    return accepted


def compute_signature(params: Mapping[str, str], *, secret: str) -> str:
    """Vonage's SHA-256 HMAC signature of `params` (all but "sig"), upper-case hex.

    Each parameter, sorted by name, adds "&name=value" to the signed string,
    with "&" and "=" in the value replaced by "_"; the key is the secret.
    """
    signed = "".join(
        f"&{name}={str(params[name]).replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != "sig"
    )
    digest = hmac.new(secret.encode("utf-8"), signed.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


def sign_params(
    params: Mapping[str, str], *, secret: str, now: datetime
) -> dict[str, str]:
    """`params` with "timestamp" (`now`, Unix seconds) and "sig" added, as Vonage signs."""
    signed = {name: value for name, value in params.items() if name != "sig"}
    signed["timestamp"] = str(int(_aware(now).timestamp()))
    signed["sig"] = compute_signature(signed, secret=secret)
    return signed


def verify_signature(
    params: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    max_age: timedelta = SIGNATURE_MAX_AGE,
) -> None:
    """Check a signed Vonage request; raise SmsWebhookError unless it is genuine and fresh.

    The signature is compared in constant time (either hex case); the
    "timestamp" it covers must be within `max_age` of `now`, either way.
    """
    if not secret:
        raise SmsWebhookError("not-configured")
    received = params.get("sig", "")
    if not received:
        raise SmsWebhookError("unsigned")
    expected = compute_signature(params, secret=secret)
    if not hmac.compare_digest(
        expected.encode("ascii"), received.strip().upper().encode("utf-8")
    ):
        raise SmsWebhookError("bad-signature")
    timestamp = params.get("timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SmsWebhookError("bad-timestamp")
    age = abs(_aware(now).timestamp() - int(timestamp))
    if age > max_age.total_seconds():
        raise SmsWebhookError("stale")


def parse_delivery_receipt(
    params: Mapping[str, str], *, config: VonageConfig, now: datetime
) -> DeliveryReceipt:
    """A verified delivery receipt from the DLR webhook's parameters.

    `params` are the query (GET) or body (form or JSON POST) parameters as
    strings. A long text gets one receipt per part, each with its own
    message id and the same client-ref. Raises SmsWebhookError.
    """
    _verify_webhook(params, config=config, now=now)
    message_id = _required(params, "messageId")
    status = _required(params, "status").strip().lower()
    raw_error = params.get("err-code", "").strip()
    error_code = int(raw_error) if raw_error.isascii() and raw_error.isdigit() else None
    return DeliveryReceipt(
        client_ref=params.get("client-ref") or None,
        message_id=message_id,
        status=status,
        delivered=status == "delivered",
        final=status in FINAL_DLR_STATUSES,
        error_code=error_code,
    )


def parse_inbound(
    params: Mapping[str, str], *, config: VonageConfig, now: datetime
) -> InboundSms:
    """A verified inbound SMS (a patient's reply) from the inbound webhook's parameters.

    Each part of a long (concatenated) text arrives as its own call and is
    returned as is. Binary messages are refused ("unsupported-type").
    Raises SmsWebhookError.
    """
    _verify_webhook(params, config=config, now=now)
    if params.get("type", "text") not in {"text", "unicode"}:
        raise SmsWebhookError("unsupported-type")
    try:
        sender = "+" + normalise_msisdn(_required(params, "msisdn"))
    except ValueError:
        raise SmsWebhookError("bad-sender") from None
    if "text" not in params:
        raise SmsWebhookError("missing-field")
    return InboundSms(
        sender=sender,
        text=params["text"],
        message_id=_required(params, "messageId"),
    )


def _verify_webhook(
    params: Mapping[str, str], *, config: VonageConfig, now: datetime
) -> None:
    # Unsigned webhooks are refused: an inbound "2" cancels an appointment.
    verify_signature(params, secret=config.signature_secret, now=now)
    api_key = params.get("api-key")
    if api_key is not None and not hmac.compare_digest(
        api_key.encode("utf-8"), config.api_key.encode("utf-8")
    ):
        raise SmsWebhookError("wrong-account")


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise SmsWebhookError("missing-field")
    return value


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now


def _post(*, config: VonageConfig, path: str, body: bytes) -> tuple[int, bytes]:
    """POST `body`; the HTTP status and body, or SmsError saying what may have happened."""
    url = urllib.parse.urlsplit(config.base_url)
    host = url.hostname or ""
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        connection = http.client.HTTPSConnection(
            host,
            url.port,
            timeout=config.timeout,
            context=ssl.create_default_context(),
        )
    elif url.scheme == "http":
        connection = http.client.HTTPConnection(host, url.port, timeout=config.timeout)
    else:
        raise SmsPermanentError("bad-configuration")
    target = url.path.rstrip("/") + path
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "User-Agent": "Carnet",
    }
    try:
        # Until the whole request is written, Vonage cannot have taken it.
        try:
            connection.connect()
        except TimeoutError:
            raise SmsRetryableError("timeout") from None
        except OSError:
            raise SmsRetryableError("connection-failed") from None
        try:
            connection.request("POST", target, body=body, headers=headers)
        except (OSError, http.client.HTTPException):
            raise SmsRetryableError("connection-failed") from None
        # From here on, Vonage may have queued the message.
        try:
            response = connection.getresponse()
            payload = response.read()
        except TimeoutError:
            raise SmsRetryableError("timeout", maybe_sent=True) from None
        except (OSError, http.client.HTTPException):
            raise SmsRetryableError("connection-lost", maybe_sent=True) from None
    finally:
        connection.close()
    return response.status, payload


def _read_send_response(*, status: int, payload: bytes) -> SmsAccepted:
    """Vonage's answer to /sms/json: accepted parts, or the matching SmsError."""
    if status == 429:
        raise SmsRetryableError("http-429")
    if status >= 500:
        raise SmsRetryableError(f"http-{status}", maybe_sent=True)
    if status != 200:
        raise SmsPermanentError(f"http-{status}")
    try:
        document = json.loads(payload)
        messages = document["messages"]
        statuses = [str(message["status"]) for message in messages]
    except (ValueError, KeyError, TypeError):
        raise SmsRetryableError("bad-response", maybe_sent=True) from None
    if not statuses:
        raise SmsRetryableError("bad-response", maybe_sent=True)
    failed = [s for s in statuses if s != "0"]
    if not failed:
        try:
            ids = tuple(str(message["message-id"]) for message in messages)
        except (KeyError, TypeError):
            raise SmsRetryableError("bad-response", maybe_sent=True) from None
        return SmsAccepted(message_ids=ids, parts=len(ids))
    if len(failed) < len(statuses):
        # Some parts are on their way: a resend would duplicate them.
        raise SmsPermanentError(
            "partially-sent", provider_status=failed[0], maybe_sent=True
        )
    code, retryable = SEND_STATUSES.get(failed[0], ("provider-error", False))
    error_class = SmsRetryableError if retryable else SmsPermanentError
    raise error_class(code, provider_status=failed[0])
