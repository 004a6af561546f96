"""Keyed pseudonyms of client addresses: the audit trail never stores a raw IP.

The pseudonym is HMAC-SHA256 of the normalised address, keyed by a key
derived from settings.SECRET_KEY with a fixed salt (Django's salted_hmac),
truncated to 16 hex characters (64 bits). The same address gives the same
pseudonym, so one client's accesses can be correlated without storing where
it connects from.

This is pseudonymisation, not anonymisation: whoever holds SECRET_KEY can
recompute the pseudonym of any candidate address, and IPv4 has only 2**32
of them.
Rotating SECRET_KEY changes every pseudonym from then on: events recorded
before and after a rotation no longer correlate by address. Old events keep
their old pseudonym (it is covered by their hash); SECRET_KEY_FALLBACKS are
not used here.
"""

import ipaddress

from django.utils.crypto import salted_hmac

IP_PSEUDONYM_SALT = "carnet.audit.ip-pseudonym.v1"
IP_PSEUDONYM_LENGTH = 16


def normalise_ip(address: str) -> str:
    """The canonical text of an IP address ("::ffff:192.0.2.1" → "192.0.2.1").

    A value that is not an IP address is returned stripped, unchanged.
    """
    text = address.strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


def pseudonymise_ip(address: str) -> str:
    """16 hex characters standing for `address`, or "" when there is no address.

    Reads settings.SECRET_KEY at each call (never at import time).
    """
    normalised = normalise_ip(address)
    if not normalised:
        return ""
    digest = salted_hmac(IP_PSEUDONYM_SALT, normalised, algorithm="sha256")
    return digest.hexdigest()[:IP_PSEUDONYM_LENGTH]
