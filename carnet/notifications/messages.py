"""The content of the patient's messages: subject, text, HTML and SMS, in their language.

One builder per kind of message: ``build_confirmation``, ``build_reminder``,
``build_moved``, ``build_cancelled`` and ``build_running_late``. Each takes
plain values (never ORM objects), renders everything inside
``translation.override(language)`` and returns a ``MessageContent``. Nothing
is sent here and nothing is read from the database; the caller (a task)
builds the action URLs and the ``.ics`` bytes and passes them in.

**Minimal content, by construction.** A message says who (the practitioner's
display name), where (the practice's name and address) and when (the local
time in the agenda's zone), and nothing else. The builders have no parameter
for anything more, so nothing more can be smuggled in:

* never the visit reason (the issue's rule);
* never the visit motive: "Dépistage VIH" or "IVG, 1re consultation" is
  health information as much as the reason is;
* never the practitioner's specialty: "your appointment with your
  oncologist" tells anyone who reads a lock screen or a shared mailbox what
  the patient is treated for. The display name is enough to recognise one's
  own appointment;
* never the patient's name, date of birth or phone number: a message reaches
  a phone or a mailbox that other people may read, and the patient knows who
  they are.

**E-mail.** The text part says the same as the HTML part. The HTML is plain
semantic markup without any style (no ``style`` attribute, no ``<style>``),
without images, and its only links are the action URLs passed in, so a
message never makes the mail client fetch anything.

**SMS.** One short line: practitioner, place, short date and time, then the
reply codes ("1" confirms, "2" cancels) for a reminder or a moved
appointment, then at most one link, the cancel link (the action that frees
the slot for the waiting list, and the one a patient who cannot reply still
needs). The text is folded to the GSM 03.38 alphabet where a close letter
exists (``û`` → ``u``, ``’`` → ``'``, a no-break space → a space), because a
single character outside it halves a segment (160 → 70 characters). With a
realistic long practitioner name and a link of ``LINK_LENGTH_HINT``
characters, every kind fits in ``SMS_MAX_SEGMENTS`` (2) GSM-7 segments in
French, German, Italian and English; a name in a script outside GSM-7
(Greek, Cyrillic…) is kept as it is and the SMS is sent as Unicode.

The templates live in ``notifications/email/<kind>.{txt,html}`` and are found
by the app template loader: ``carnet.notifications`` must be installed.
"""

import math
import unicodedata
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext

from carnet.core.templatetags.carnet import format_local
from carnet.notifications.sms import GSM7_BASIC, GSM7_EXTENSION, needs_unicode

__all__ = [
    "CANCELLED_BY_PATIENT",
    "CANCELLED_BY_PRACTICE",
    "KINDS",
    "LINK_LENGTH_HINT",
    "SMS_MAX_SEGMENTS",
    "CancelledBy",
    "MessageContent",
    "build_cancelled",
    "build_confirmation",
    "build_moved",
    "build_offer",
    "build_reminder",
    "build_running_late",
    "fold_to_gsm7",
    "sms_segments",
]

KINDS: tuple[str, ...] = (
    "confirmation",
    "reminder",
    "moved",
    "cancelled",
    "running_late",
    "offer",
)
CANCELLED_BY_PRACTICE = "practice"
CANCELLED_BY_PATIENT = "patient"
CancelledBy = Literal["practice", "patient"]

SMS_MAX_SEGMENTS = 2
"""The SMS texts are written to fit in this many GSM-7 segments (306 characters)."""
LINK_LENGTH_HINT = 110
"""A realistic action URL: ``https://`` + a host + a short path + the 78-character token."""

_PLACE_KEYS = ("practitioner_name", "practice_name", "address", "time_zone")
_GSM7_SINGLE = 160
_GSM7_PART = 153
_UCS2_SINGLE = 70
_UCS2_PART = 67
_GSM7 = frozenset(GSM7_BASIC + GSM7_EXTENSION)
_GSM7_EXTENSION = frozenset(GSM7_EXTENSION)
_SMS_NAME_FLOOR = 16
_ELLIPSIS = "..."
# Characters whose accent-stripped form is not the natural replacement.
_GSM7_FOLDS = {
    "\u00a0": " ",  # no-break space (French "Quand :")
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "«": '"',
    "»": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
}


@dataclass(frozen=True, slots=True)
class MessageContent:
    """One message, ready for the e-mail and SMS channels.

    ``subject`` is one line; ``text`` and ``html`` are the two parts of the
    e-mail (the HTML is a complete document with ``lang`` set); ``sms`` the
    SMS text; ``ics`` the calendar file to attach to the e-mail, when the
    caller passed one (``METHOD:REQUEST`` or ``METHOD:CANCEL``).
    """

    kind: str
    language: str
    subject: str
    text: str
    html: str
    sms: str
    ics: bytes | None = None

    @property
    def sms_segments(self) -> int:
        """How many SMS parts ``sms`` takes (see ``sms_segments``)."""
        return sms_segments(self.sms)

    @property
    def sms_is_unicode(self) -> bool:
        """Whether ``sms`` must be sent as Unicode (UCS-2) rather than GSM-7."""
        return needs_unicode(self.sms)


def build_confirmation(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    language: str,
    cancel_url: str | None = None,
    ics: bytes | None = None,
) -> MessageContent:
    """The booking confirmation: who, where, when, and a cancel link.

    ``starts_at`` is aware; it is shown in ``time_zone`` (the agenda's IANA
    zone). ``cancel_url`` is absolute (``https://…``); ``ics`` is the
    ``METHOD:REQUEST`` calendar file. Raises ValueError for a naive
    ``starts_at``, an unknown zone or a relative URL.
    """
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
        cancel_url=cancel_url,
    )
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        subject = gettext("Appointment confirmed: %(practitioner)s, %(when)s") % {
            "practitioner": facts["practitioner_name"],
            "when": facts["when"],
        }
        sms = _sms(
            # Translators: an SMS; keep it as short as the English (two SMS
            # parts must hold it with a link). Only GSM letters if possible.
            pgettext(
                "sms",
                "Appointment booked: %(practitioner)s, %(place)s, %(when)s.",
            ),
            facts,
            replies=False,
        )
        return _render("confirmation", facts, subject=subject, sms=sms, ics=ics)


def build_reminder(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    language: str,
    confirm_url: str | None = None,
    cancel_url: str | None = None,
    sms_replies: bool = True,
    ics: bytes | None = None,
    duplicate: dict | None = None,
) -> MessageContent:
    """A reminder before the appointment, with "I'll be there" and "Cancel".

    ``sms_replies`` says whether the SMS may ask for a reply ("1" confirms,
    "2" cancels): false when the SMS is sent from a sender that cannot
    receive replies (an alphanumeric sender ID). ``duplicate`` is the other
    appointment of a likely duplicate booking (same specialty and motive at
    another practice: ``practitioner_name``, ``practice_name``, ``address``,
    ``time_zone``, ``starts_at``): the reminder names it and asks the patient
    to cancel the one they won't use. Otherwise as ``build_confirmation``.
    """
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
        confirm_url=confirm_url,
        cancel_url=cancel_url,
    )
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        subject = gettext("Reminder: appointment with %(practitioner)s, %(when)s") % {
            "practitioner": facts["practitioner_name"],
            "when": facts["when"],
        }
        line = (
            # Translators: an SMS; keep it as short as the English (two SMS
            # parts must hold it with a link). Only GSM letters if possible.
            pgettext("sms", "Reminder: %(practitioner)s, %(place)s, %(when)s.")
        )
        if duplicate is not None:
            other = _facts(
                **{key: duplicate[key] for key in _PLACE_KEYS},
                starts_at=duplicate["starts_at"],
                language=language,
            )
            other_when = format_local(duplicate["starts_at"], other["zone"], "datetime")
            facts["duplicate"] = {
                "practitioner_name": other["practitioner_name"],
                "practice_name": other["practice_name"],
                "when": capfirst(other_when),
            }
            line += " " + pgettext(
                "sms",
                "You booked a similar visit elsewhere too: please cancel the one "
                "you won't use.",
            )
        sms = _sms(line, facts, replies=sms_replies)
        return _render("reminder", facts, subject=subject, sms=sms, ics=ics)


def build_offer(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    expires_at: datetime,
    language: str,
    offer_url: str,
) -> MessageContent:
    """A waiting-list offer: an earlier time, held for the patient until ``expires_at``.

    ``offer_url`` (absolute) opens the page where the patient takes the time
    or lets it go; it is the SMS's one link too.
    """
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
    )
    _require_aware(expires_at, name="expires_at")
    facts["offer_url"] = _action_url(offer_url, name="offer_url")
    if facts["offer_url"] is None:
        raise ValueError("offer_url is required")
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        facts["until"] = format_local(expires_at, facts["zone"], "time")
        subject = gettext("An earlier appointment with %(practitioner)s: %(when)s") % {
            "practitioner": facts["practitioner_name"],
            "when": facts["when"],
        }
        sms = _sms(
            # Translators: an SMS; keep it as short as the English (two SMS
            # parts must hold it with a link). Only GSM letters if possible.
            pgettext(
                "sms",
                "Earlier time free: %(practitioner)s, %(place)s, %(when)s. "
                "Held for you until %(until)s:",
            ),
            facts,
            replies=False,
            link=facts["offer_url"],
        )
        return _render("offer", facts, subject=subject, sms=sms, ics=None)


def build_moved(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    previous_starts_at: datetime,
    language: str,
    confirm_url: str | None = None,
    cancel_url: str | None = None,
    sms_replies: bool = True,
    ics: bytes | None = None,
) -> MessageContent:
    """The appointment moved: the new time (``starts_at``) and the old one.

    ``previous_starts_at`` is aware too. Who moved it is not said. Otherwise
    as ``build_reminder`` (``ics`` is the new ``METHOD:REQUEST``, same UID,
    higher SEQUENCE).
    """
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
        confirm_url=confirm_url,
        cancel_url=cancel_url,
    )
    _require_aware(previous_starts_at, name="previous_starts_at")
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        zone = facts["zone"]
        facts["previous_when"] = format_local(previous_starts_at, zone, "datetime")
        facts["previous_iso"] = _iso(previous_starts_at, zone)
        subject = gettext("Appointment moved: %(practitioner)s, %(when)s") % {
            "practitioner": facts["practitioner_name"],
            "when": facts["when"],
        }
        sms = _sms(
            # Translators: an SMS; keep it as short as the English (two SMS
            # parts must hold it with a link). Only GSM letters if possible.
            pgettext(
                "sms",
                "Appointment moved: %(practitioner)s, %(place)s, now %(when)s.",
            ),
            facts,
            replies=sms_replies,
        )
        return _render("moved", facts, subject=subject, sms=sms, ics=ics)


def build_cancelled(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    cancelled_by: CancelledBy,
    language: str,
    ics: bytes | None = None,
) -> MessageContent:
    """The appointment is cancelled, by "the practice" or by "you".

    ``cancelled_by`` is ``CANCELLED_BY_PRACTICE`` or ``CANCELLED_BY_PATIENT``
    (ValueError otherwise); the cancellation reason is never shown, and a
    staff member is never named. ``ics`` is the ``METHOD:CANCEL`` file. No
    action links: there is nothing left to confirm or cancel.
    """
    if cancelled_by not in (CANCELLED_BY_PRACTICE, CANCELLED_BY_PATIENT):
        raise ValueError(
            f"cancelled_by must be 'practice' or 'patient': {cancelled_by!r}"
        )
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
    )
    by_practice = cancelled_by == CANCELLED_BY_PRACTICE
    facts["by_practice"] = by_practice
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        subject = gettext("Appointment cancelled: %(practitioner)s, %(when)s") % {
            "practitioner": facts["practitioner_name"],
            "when": facts["when"],
        }
        # Translators: an SMS; keep it as short as the English.
        if by_practice:
            line = pgettext(
                "sms",
                "The practice cancelled your appointment: %(practitioner)s, "
                "%(place)s, %(when)s.",
            )
        else:
            line = pgettext(
                "sms",
                "You cancelled your appointment: %(practitioner)s, %(place)s, "
                "%(when)s.",
            )
        sms = _sms(line, facts, replies=False)
        return _render("cancelled", facts, subject=subject, sms=sms, ics=ics)


def build_running_late(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    minutes: int,
    language: str,
) -> MessageContent:
    """The practitioner is running about ``minutes`` late today.

    ``starts_at`` is the patient's own appointment time (shown unchanged: the
    patient should still come on time). ``minutes`` is a positive integer
    (ValueError otherwise). No action links and no ``.ics``.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValueError(f"minutes must be a positive integer: {minutes!r}")
    facts = _facts(
        practitioner_name=practitioner_name,
        practice_name=practice_name,
        address=address,
        time_zone=time_zone,
        starts_at=starts_at,
        language=language,
    )
    facts["minutes"] = minutes
    with translation.override(language):
        _add_times(facts, starts_at=starts_at)
        subject = ngettext(
            "%(practitioner)s is running about %(minutes)d minute late",
            "%(practitioner)s is running about %(minutes)d minutes late",
            minutes,
        ) % {"practitioner": facts["practitioner_name"], "minutes": minutes}
        facts["delay_sentence"] = ngettext(
            "%(practitioner)s is running about %(minutes)d minute late today.",
            "%(practitioner)s is running about %(minutes)d minutes late today.",
            minutes,
        ) % {"practitioner": facts["practitioner_name"], "minutes": minutes}
        sms = _sms(
            # Translators: an SMS; keep it as short as the English (two SMS
            # parts must hold it with a link). Only GSM letters if possible.
            pgettext(
                "sms",
                "%(practitioner)s is running about %(minutes)d min late. "
                "Your appointment: %(time)s, %(place)s.",
            ),
            facts,
            replies=False,
        )
        return _render("running_late", facts, subject=subject, sms=sms, ics=None)


def sms_segments(text: str) -> int:
    """How many SMS parts ``text`` takes: 0 when empty.

    GSM-7 (when ``needs_unicode`` is false): 160 septets in one part, else 153
    per part, an extension character (``€``, ``[``…) counting two. Unicode
    (UCS-2): 70 units in one part, else 67 per part, a character outside the
    Basic Multilingual Plane (an emoji) counting two.
    """
    if not text:
        return 0
    units = _sms_units(text)
    if needs_unicode(text):
        single, part = _UCS2_SINGLE, _UCS2_PART
    else:
        single, part = _GSM7_SINGLE, _GSM7_PART
    return 1 if units <= single else math.ceil(units / part)


def fold_to_gsm7(text: str) -> str:
    """``text`` with each character outside GSM 03.38 replaced by a close one.

    Accents the alphabet lacks are dropped (``û`` → ``u``, ``ê`` → ``e``,
    ``ç`` → ``c``), typographic quotes, dashes and spaces become their ASCII
    forms; ``é``, ``ä``, ``ß`` and the other GSM-7 letters are kept. A
    character with no close GSM-7 form (``ł``, ``Ж``, ``中``, an emoji) is
    kept as it is, and the SMS is then sent as Unicode.
    """
    folded: list[str] = []
    for character in text:
        if character in _GSM7:
            folded.append(character)
        elif character in _GSM7_FOLDS:
            folded.append(_GSM7_FOLDS[character])
        else:
            stripped = "".join(
                c
                for c in unicodedata.normalize("NFKD", character)
                if not unicodedata.combining(c)
            )
            folded.append(
                stripped if stripped and not needs_unicode(stripped) else character
            )
    return "".join(folded)


def _facts(
    *,
    practitioner_name: str,
    practice_name: str,
    address: str,
    time_zone: str,
    starts_at: datetime,
    language: str,
    confirm_url: str | None = None,
    cancel_url: str | None = None,
) -> dict:
    """The checked, one-line values every template receives."""
    _require_aware(starts_at, name="starts_at")
    try:
        zone = ZoneInfo(time_zone)
    except (
        ValueError,
        KeyError,
        OSError,
    ) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {time_zone!r}") from exc
    return {
        "practitioner_name": _one_line(practitioner_name, name="practitioner_name"),
        "practice_name": _one_line(practice_name, name="practice_name"),
        "address": _one_line(address, name="address", required=False),
        "time_zone": time_zone,
        "zone": zone,
        "language": language,
        "confirm_url": _action_url(confirm_url, name="confirm_url"),
        "cancel_url": _action_url(cancel_url, name="cancel_url"),
    }


def _add_times(facts: dict, *, starts_at: datetime) -> None:
    """The formatted times, in the active language (call inside the override)."""
    zone = facts["zone"]
    facts["when"] = format_local(starts_at, zone, "datetime")
    facts["time"] = format_local(starts_at, zone, "time")
    facts["sms_when"] = _sms_when(starts_at, zone)
    facts["iso"] = _iso(starts_at, zone)


def _sms_when(instant: datetime, zone: ZoneInfo) -> str:
    """A short date and the time, e.g. « mar 3 mars 09:20 »."""
    return pgettext("sms date and time", "%(date)s %(time)s") % {
        "date": format_local(instant, zone, "short_date"),
        "time": format_local(instant, zone, "time"),
    }


def _iso(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="minutes")


def _sms(line: str, facts: dict, *, replies: bool, link: str | None = None) -> str:
    """The SMS: the kind's line, the reply codes, at most one link; folded to GSM-7.

    When it would take more than ``SMS_MAX_SEGMENTS`` parts, the longer of the
    practice's and the practitioner's names is shortened (with "...") down to
    ``_SMS_NAME_FLOOR`` characters, until it fits; the link is never cut. A
    Unicode SMS with a link may not fit even then, and is sent longer.
    """
    names = {
        "practitioner": facts["practitioner_name"],
        "place": facts["practice_name"],
    }
    while True:
        text = _sms_text(line, facts, names=names, replies=replies, link=link)
        overflow = _sms_units(text) - _sms_capacity(text)
        longest = max(names, key=lambda key: len(names[key]))
        if overflow <= 0 or len(names[longest]) <= _SMS_NAME_FLOOR + len(_ELLIPSIS):
            return text
        keep = max(_SMS_NAME_FLOOR, len(names[longest]) - overflow - len(_ELLIPSIS))
        names[longest] = names[longest][:keep].rstrip(" ,-") + _ELLIPSIS


def _sms_text(
    line: str, facts: dict, *, names: dict, replies: bool, link: str | None
) -> str:
    parts = [
        line
        % {
            **names,
            "when": facts.get("sms_when", ""),
            "time": facts.get("time", ""),
            "minutes": facts.get("minutes", 0),
            "until": facts.get("until", ""),
        }
    ]
    if replies:
        parts.append(pgettext("sms", "Reply 1 to confirm, 2 to cancel."))
    if link:
        parts.append(link)
    elif facts["cancel_url"]:
        parts.append(pgettext("sms", "Cancel: %(url)s") % {"url": facts["cancel_url"]})
    return fold_to_gsm7(" ".join(parts))


def _sms_units(text: str) -> int:
    """Septets (GSM-7) or UCS-2 code units that ``text`` takes."""
    if needs_unicode(text):
        return sum(2 if ord(character) > 0xFFFF else 1 for character in text)
    return len(text) + sum(1 for character in text if character in _GSM7_EXTENSION)


def _sms_capacity(text: str) -> int:
    """How many units ``SMS_MAX_SEGMENTS`` parts hold in ``text``'s encoding."""
    if SMS_MAX_SEGMENTS == 1:
        return _UCS2_SINGLE if needs_unicode(text) else _GSM7_SINGLE
    part = _UCS2_PART if needs_unicode(text) else _GSM7_PART
    return part * SMS_MAX_SEGMENTS


def _render(
    kind: str, facts: dict, *, subject: str, sms: str, ics: bytes | None
) -> MessageContent:
    """Render the e-mail parts of ``kind`` (inside the language override)."""
    context = {
        **facts,
        "subject": subject,
        "when": capfirst(facts["when"]),
        "ics": ics is not None,
    }
    if "previous_when" in facts:
        context["previous_when"] = capfirst(facts["previous_when"])
    text = render_to_string(f"notifications/email/{kind}.txt", context)
    html = render_to_string(f"notifications/email/{kind}.html", context)
    return MessageContent(
        kind=kind,
        language=facts["language"],
        subject=" ".join(subject.split()),
        text=_tidy_text(text),
        html=html,
        sms=sms,
        ics=ics,
    )


def _tidy_text(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines left by template tags."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


def _one_line(value: str, *, name: str, required: bool = True) -> str:
    """``value`` on one line (no header injection in a subject), single spaces."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    line = " ".join(value.split())
    if required and not line:
        raise ValueError(f"{name} must not be empty")
    return line


def _action_url(url: str | None, *, name: str) -> str | None:
    """An absolute http(s) URL without spaces, or None."""
    if url is None or url == "":
        return None
    parts = urllib.parse.urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or any(character.isspace() or character in "\"'<>" for character in url)
    ):
        raise ValueError(f"{name} must be an absolute http(s) URL")
    return url


def _require_aware(instant: datetime, *, name: str) -> None:
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
