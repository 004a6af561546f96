"""Errors raised by the vault, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class VaultError(Exception):
    """Base of every vault failure; never carries plaintext or key material."""


class TokenInvalid(VaultError):
    """A token is malformed, was tampered with, or belongs to another context."""


class UnsupportedTokenVersion(TokenInvalid):
    """A token starts with a format version this code does not know."""


class KeyDestroyed(VaultError, DomainError):
    """The subject's data key was crypto-shredded: its values are erased for good.

    Interfaces show "erased"; nothing can bring the value back.
    """

    code = "vault_key_destroyed"
    kind = "not_found"
    message = _("This information has been erased.")


class ProtectedSubject(VaultError):
    """The subject belongs to the vault itself ("system:…") and cannot be shredded or rotated."""


class PlaintextRefused(VaultError, TypeError):
    """Plaintext reached the database layer of a sealed field (update(), filter(), …)."""


class KeyBackendError(VaultError):
    """The key backend (key file or HSM) failed, or holds no usable key-encryption key."""


class KekMissing(KeyBackendError):
    """The backend holds no key-encryption key with the requested id (or none at all)."""


class KekInUse(VaultError):
    """A key-encryption key still wraps live data keys, or is the current one."""


class BlindIndexValueInvalid(VaultError, DomainError):
    """A value cannot be normalised for its blind index (e.g. a national phone number without a country)."""

    code = "vault_blind_index_value_invalid"
    kind = "invalid"
    message = _("This value is not valid.")
