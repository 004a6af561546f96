"""Normalisation for blind indexes: equal values must give equal bytes. Pure Python.

Each kind has one canonical form, so that what a person types at signup and at a
later lookup lands on the same index:

* ``email``: surrounding spaces removed, case folded (``casefold``, Unicode-aware);
* ``phone``: international E.164 form ``+<digits>``: a leading ``00`` becomes ``+``,
  spaces/dots/dashes/slashes/brackets and a ``(0)`` after the country code go; a
  national number needs its country (``FR``, ``DE``, ``IT``): in France and Germany
  the trunk ``0`` is dropped (``06 12 34 56 78`` → ``+33612345678``), Italian numbers
  keep their leading ``0`` (Italy has no trunk prefix: ``06 1234 5678`` → ``+390612345678``);
* ``nhi`` (national health identifier): upper case, every space removed.
"""

import re

from django.utils.translation import gettext_lazy as _

from carnet.vault.errors import BlindIndexValueInvalid

KINDS = frozenset({"email", "phone", "nhi", "birth_date"})
COUNTRY_CALLING_CODES = {"FR": "33", "DE": "49", "IT": "39"}
# Countries whose national numbers carry a trunk prefix "0" that E.164 drops.
TRUNK_ZERO_COUNTRIES = frozenset({"FR", "DE"})

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 .\-/()\u00a0]+$")
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")
_NOT_DIGIT = re.compile(r"[^0-9]")
_WHITESPACE = re.compile(r"\s+")
E164_MAX_DIGITS = 15
PHONE_MIN_DIGITS = 4


def normalise(*, kind: str, value: str, country: str | None = None) -> str:
    """The canonical form of `value` for blind index `kind`.

    Raises BlindIndexValueInvalid when the value cannot be normalised (empty, or a
    national phone number without a country), and ValueError for an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown blind index kind {kind!r}; one of {sorted(KINDS)}")
    if kind == "phone":
        return normalise_phone(value, country=country)
    if kind == "email":
        result = value.strip().casefold()
    elif kind == "birth_date":
        result = _iso_date(value)
    else:
        result = _WHITESPACE.sub("", value).upper()
    if not result:
        raise BlindIndexValueInvalid(_("This value is empty."))
    return result


def _iso_date(value: str) -> str:
    """A date of birth as YYYY-MM-DD; BlindIndexValueInvalid if it is not a date."""
    from datetime import date

    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise BlindIndexValueInvalid(_("This date is not valid.")) from None


def normalise_phone(value: str, *, country: str | None = None) -> str:
    """`value` in E.164 form (``+33612345678``); see the module docstring."""
    raw = value.strip()
    if not raw or not _PHONE_ALLOWED.match(raw):
        raise BlindIndexValueInvalid(_("This phone number is not valid."))
    international = raw.startswith("+") or _NOT_DIGIT.sub("", raw).startswith("00")
    if international:
        raw = _TRUNK_IN_BRACKETS.sub("", raw)
    digits = _NOT_DIGIT.sub("", raw)
    if raw.startswith("+"):
        national = None
    elif digits.startswith("00"):
        digits, national = digits[2:], None
    else:
        national = digits
    if national is not None:
        if country is None:
            raise BlindIndexValueInvalid(
                _(
                    "This phone number has no country code: write it as +33…, or choose its country."
                )
            )
        code = country.strip().upper()
        if code not in COUNTRY_CALLING_CODES:
            raise ValueError(
                f"unsupported country {country!r}; one of {sorted(COUNTRY_CALLING_CODES)}"
            )
        if code in TRUNK_ZERO_COUNTRIES:
            if not national.startswith("0") or national.startswith("00"):
                raise BlindIndexValueInvalid(
                    _("This phone number is not valid for this country.")
                )
            national = national[1:]
        digits = COUNTRY_CALLING_CODES[code] + national
    if not PHONE_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        raise BlindIndexValueInvalid(_("This phone number is not valid."))
    return "+" + digits
