"""Data keys: one per subject and version, stored only wrapped by a key-encryption key."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from carnet.vault.crypto import MAX_KEY_ID

CURRENT_KEY_CONSTRAINT = "vault_datakey_one_current_per_subject"
VERSION_CONSTRAINT = "vault_datakey_subject_version_unique"
BLIND_INDEX_SUBJECT = "system:blind-index"
SYSTEM_SUBJECT_PREFIX = "system:"


def new_data_key_id() -> int:
    """A random positive 63-bit id: never reused, even after a rolled-back insert.

    Tokens name their data key by this id, and process caches key on it, so an id
    must never come back with another key behind it (SQLite reuses AUTOINCREMENT
    values after a rollback). Random ids also hide how many keys exist.
    """
    return secrets.randbelow(MAX_KEY_ID) + 1


class DataKey(models.Model):
    """A subject's AES-256 data key, wrapped by a key-encryption key held outside the database.

    A subject ("patient:<uuid>", "system:blind-index") has one current key
    (retired_at is NULL: the database allows only one) and may have retired
    versions while a rotation re-encrypts their values. Destroying a key erases
    its wrapped bytes (crypto-shredding); a destroyed current key stays as a
    tombstone so that nothing is sealed for that subject again.
    """

    id = models.BigIntegerField(
        _("id"), primary_key=True, default=new_data_key_id, editable=False
    )
    subject = models.CharField(_("subject"), max_length=200)
    version = models.PositiveIntegerField(_("version"), default=1)
    kek_id = models.CharField(_("key-encryption key"), max_length=200, blank=True)
    wrapped_key = models.BinaryField(_("wrapped key"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("destroyed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        ordering = ["subject", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(retired_at__isnull=True),
                name=CURRENT_KEY_CONSTRAINT,
            ),
            models.UniqueConstraint(
                fields=["subject", "version"], name=VERSION_CONSTRAINT
            ),
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=False) | Q(wrapped_key__isnull=False),
                name="vault_datakey_wrapped_unless_destroyed",
            ),
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=True) | Q(wrapped_key__isnull=True),
                name="vault_datakey_no_wrapped_key_once_destroyed",
            ),
        ]
        indexes = [models.Index(fields=["kek_id"], name="vault_datakey_kek_id_idx")]

    def __str__(self) -> str:
        return f"{self.subject} v{self.version}"

    @property
    def is_destroyed(self) -> bool:
        """Whether the key was crypto-shredded."""
        return self.destroyed_at is not None

    @property
    def is_current(self) -> bool:
        """Whether new values of the subject are sealed with this key."""
        return self.retired_at is None
