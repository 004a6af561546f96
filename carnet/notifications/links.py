"""Signed, expiring one-click action tokens for reminder and offer messages.

Every reminder carries two links, "I'll be there" (``confirm``) and "Cancel"
(``cancel``); a waiting-list offer carries one (``offer``), to a page where
the patient books the offered time or declines it. Each link holds one token
made by ``make_action_token``; the page behind it reads it back with
``read_action_token``. This module only makes and reads tokens: it has no ORM,
reads the settings at call time (never at import time) and never judges the
appointment or the offer.

**What a token holds.** The action, an opaque UUID reference (never a
database id), a version and the expiry instant in whole epoch seconds. For
``confirm`` and ``cancel`` the reference is the appointment's ``vault_row``
and the version the appointment's; for ``offer`` the reference is the
waiting-list offer's ``ref`` (carnet.booking.models.WaitlistOffer) and the
version is always 0 (an offer never changes, it is only answered). It is
*signed, not encrypted*: anyone holding it can read those four values, none of
which is personal data. The caller chooses the expiry: the appointment's start
for ``confirm``, the cancellation cut-off for ``cancel``, the end of the
offer's hold time for ``offer``. A token is valid while ``now < expires_at``;
``expires_at`` is rounded *down* to the second, so a token never lives longer
than asked.

**Format.** ``<payload>.<signature>``, both unpadded URL-safe base64, so the
token matches ``ACTION_TOKEN_PATTERN``, is safe in a URL path segment as is,
and uses only GSM 03.38 characters (an SMS stays in the 7-bit alphabet). The
payload is 25 packed bytes (action code: 1 confirm, 2 cancel, 3 offer; UUID;
version as uint32; expiry as uint32) and the signature is Django's ``Signer``
HMAC-SHA256 with ``settings.SECRET_KEY`` and the salt ``ACTION_TOKEN_SALT``:
every token is exactly ``ACTION_TOKEN_LENGTH`` (78) characters. JSON was
measured and left out: ``signing.dumps`` of the same four values is 135
characters, too long for an SMS that carries two links. Adding the ``offer``
code kept the layout (a code the reader did not know was already refused), so
the salt stayed ``.v1``. Verification tries
``settings.SECRET_KEY_FALLBACKS`` too, so rotating the secret key does not
break the links already sent. A change of layout must change the salt
(``.v2``), so an old token can never be read with the new layout.

**How the views must use them.**

* ``GET /…/<token>/`` never acts: mail scanners, antivirus gateways and
  messaging apps' link previews fetch URLs on their own. It reads the token
  and renders a page with the appointment's minimal details (practitioner,
  place, time; never the visit reason) and **one** button, a form that POSTs
  to the same URL (an ``offer`` page has two: book this time, or no thanks).
* ``POST`` reads the token again with a fresh ``now`` and calls one service,
  which performs the action. The token is single-purpose: a ``confirm`` token
  can only confirm, a ``cancel`` token can only cancel, an ``offer`` token
  only answers its offer (carnet.booking.offers). The action is
  idempotent: confirming a confirmed appointment, or cancelling a cancelled
  one, shows the same result page and changes nothing.
* The service looks the appointment up by ``vault_row`` and compares
  ``token.version`` with the appointment's current version: a token for an
  older version is *stale* (the appointment was moved) and must not act; the
  page shows the current time instead. This module returns the version and
  does not judge it. The service still applies the booking rules at POST time
  (the cancellation cut-off may have changed since the token was made).
* ``ActionTokenInvalid`` (tampered, other salt or key, malformed, unknown
  action) and ``ActionTokenExpired`` are both ``ActionTokenError``: render one
  page from ``error.render()`` and never say which check failed.
  ``ActionTokenExpired.token`` holds the authentic, decoded token, for a page
  that says which appointment it was about.
* The token is a bearer credential: answer with ``Referrer-Policy: no-referrer``
  and ``Cache-Control: no-store``, keep the pages out of search engines, and do
  not log full tokens.
"""

import re
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError

__all__ = [
    "ACTIONS",
    "ACTION_CANCEL",
    "ACTION_CONFIRM",
    "ACTION_OFFER",
    "ACTION_TOKEN_LENGTH",
    "ACTION_TOKEN_PATTERN",
    "ACTION_TOKEN_SALT",
    "ActionToken",
    "ActionTokenError",
    "ActionTokenExpired",
    "ActionTokenInvalid",
    "make_action_token",
    "read_action_token",
]

ACTION_CONFIRM = "confirm"
ACTION_CANCEL = "cancel"
ACTION_OFFER = "offer"
ACTIONS: tuple[str, ...] = (ACTION_CONFIRM, ACTION_CANCEL, ACTION_OFFER)

ACTION_TOKEN_SALT = "carnet.notifications.action.v1"  # noqa: S105 (a signing salt)
ACTION_TOKEN_LENGTH = 78
ACTION_TOKEN_PATTERN = r"[A-Za-z0-9_-]{34}\.[A-Za-z0-9_-]{43}"  # noqa: S105 (a URL pattern)

_SEPARATOR = "."
# action code (uint8), reference UUID (16 bytes), version (uint32), expiry in
# epoch seconds (uint32, up to 2106-02-07): 25 bytes, 34 base64 characters.
_LAYOUT = struct.Struct(">B16sII")
_ACTION_CODES: dict[str, int] = {ACTION_CONFIRM: 1, ACTION_CANCEL: 2, ACTION_OFFER: 3}
_ACTIONS_BY_CODE: dict[int, str] = {code: name for name, code in _ACTION_CODES.items()}
_UINT32_MAX = 2**32 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_MAX_INPUT_LENGTH = 256
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ActionToken:
    """The decoded content of an authentic action token.

    ``appointment_ref`` is the appointment's ``vault_row`` (the offer's
    ``ref`` for ``"offer"``) in canonical UUID form (``str(uuid.UUID(...))``);
    ``version`` the appointment version the token was made for (compare it
    with the current one: an older one is stale; always 0 for an offer);
    ``action`` is ``"confirm"``, ``"cancel"`` or ``"offer"``; ``expires_at``
    is aware, in UTC, whole seconds.
    """

    appointment_ref: str
    version: int
    action: str
    expires_at: datetime


class ActionTokenError(DomainError):
    """Base of the refusals of ``read_action_token``: catch this one in views."""

    code = "action_token_error"
    kind = "not_found"
    message = _(
        "This link is not valid. Please use the links in your latest message "
        "or contact the practice."
    )


class ActionTokenInvalid(ActionTokenError):
    """Tampered, signed with another salt or key, malformed, or an unknown action."""

    code = "action_token_invalid"


class ActionTokenExpired(ActionTokenError):
    """Authentic but past its expiry; ``token`` holds the decoded content."""

    code = "action_token_expired"
    kind = "conflict"
    message = _(
        "This link has expired. If you need to change your appointment, "
        "please contact the practice."
    )

    def __init__(self, *, token: ActionToken) -> None:
        super().__init__()
        self.token = token


def make_action_token(
    *, appointment_ref: str, version: int, action: str, expires_at: datetime
) -> str:
    """Sign a one-click token for ``action`` on one version of an appointment or an offer.

    ``appointment_ref`` is the appointment's ``vault_row`` UUID as a string
    (the offer's ``ref`` for ``"offer"``, with version 0);
    ``version`` an integer in ``0 .. 2**32 - 1``; ``action`` one of ``ACTIONS``;
    ``expires_at`` an aware instant between 1970 and 2106, rounded down to the
    second. Raises ValueError on any other input (a programming error, not a
    user's). The result is ``ACTION_TOKEN_LENGTH`` characters long.
    """
    if action not in _ACTION_CODES:
        raise ValueError(f"Unknown action {action!r}; expected one of {ACTIONS}.")
    try:
        ref = uuid.UUID(appointment_ref)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"appointment_ref must be a UUID string, not {appointment_ref!r}."
        ) from exc
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"version must be an integer, not {version!r}.")
    if not 0 <= version <= _UINT32_MAX:
        raise ValueError(f"version {version} is outside 0 .. 2**32 - 1.")
    expires = _epoch_seconds(expires_at, name="expires_at")
    if not 0 <= expires <= _UINT32_MAX:
        raise ValueError(f"expires_at {expires_at} is outside 1970 .. 2106.")
    payload = _LAYOUT.pack(_ACTION_CODES[action], ref.bytes, version, expires)
    return _signer().sign(signing.b64_encode(payload).decode("ascii"))


def read_action_token(token: str, *, now: datetime) -> ActionToken:
    """Verify a token and return its content; never judges the version.

    Raises ``ActionTokenInvalid`` when the token was not signed by Carnet for
    this purpose (tampered, other salt, other key, malformed) or names an
    unknown action, and ``ActionTokenExpired`` when it is authentic but
    ``now >= expires_at``. The signature is checked first, so a forged token is
    never reported as expired. ``now`` must be aware (ValueError otherwise).
    """
    _require_aware(now, name="now")
    if (
        not isinstance(token, str)
        or len(token) > _MAX_INPUT_LENGTH
        or not token.isascii()  # a token is ASCII; a lone surrogate cannot even be signed
    ):
        raise ActionTokenInvalid()
    try:
        encoded = _signer().unsign(token)
    except signing.BadSignature as exc:
        raise ActionTokenInvalid() from exc
    decoded = _decode(encoded)
    if now >= decoded.expires_at:
        raise ActionTokenExpired(token=decoded)
    return decoded


def _signer() -> signing.Signer:
    """Django's signer on SECRET_KEY (and its fallbacks), read at each call."""
    return signing.Signer(salt=ACTION_TOKEN_SALT, sep=_SEPARATOR)


def _decode(encoded: str) -> ActionToken:
    """Unpack an authentic payload; any surprise is an invalid token."""
    if not _BASE64URL.fullmatch(encoded):
        raise ActionTokenInvalid()
    try:
        raw = signing.b64_decode(encoded.encode("ascii"))
    except ValueError as exc:
        raise ActionTokenInvalid() from exc
    if len(raw) != _LAYOUT.size or signing.b64_encode(raw).decode("ascii") != encoded:
        raise ActionTokenInvalid()
    code, ref, version, expires = _LAYOUT.unpack(raw)
    action = _ACTIONS_BY_CODE.get(code)
    if action is None:
        raise ActionTokenInvalid()
    return ActionToken(
        appointment_ref=str(uuid.UUID(bytes=ref)),
        version=version,
        action=action,
        expires_at=_EPOCH + expires * _SECOND,
    )


def _require_aware(instant: datetime, *, name: str) -> None:
    """Refuse anything but an aware datetime (a programming error)."""
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {instant!r}.")


def _epoch_seconds(instant: datetime, *, name: str) -> int:
    """Whole seconds since the epoch of an aware instant, rounded down."""
    _require_aware(instant, name=name)
    return (instant - _EPOCH) // _SECOND
