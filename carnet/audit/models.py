"""The audit trail: append-only, hash-chained events (FHIR AuditEvent)."""

from typing import Any, NoReturn

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.audit.chain import GENESIS_HASH
from carnet.audit.errors import AuditTrailIsAppendOnly

CHAIN_HEAD_ID = 1
PREV_HASH_UNIQUE = "audit_event_prev_hash_unique"


class ActorKind(models.TextChoices):
    """Who acted: a patient, practice staff, connected software or Carnet itself."""

    PATIENT = "patient", pgettext_lazy("audit actor", "patient")
    STAFF = "staff", pgettext_lazy("audit actor", "staff")
    API = "api", pgettext_lazy("audit actor", "API client")
    SYSTEM = "system", pgettext_lazy("audit actor", "system")


class Action(models.TextChoices):
    """What was done to the data."""

    READ = "read", pgettext_lazy("audit action", "read")
    CREATE = "create", pgettext_lazy("audit action", "create")
    UPDATE = "update", pgettext_lazy("audit action", "update")
    CANCEL = "cancel", pgettext_lazy("audit action", "cancel")
    EXPORT = "export", pgettext_lazy("audit action", "export")
    ERASE = "erase", pgettext_lazy("audit action", "erase")
    BREAK_GLASS = "break_glass", pgettext_lazy("audit action", "emergency access")


class Purpose(models.TextChoices):
    """Why the data was accessed (FHIR AuditEvent.purposeOfEvent)."""

    CARE = "care", pgettext_lazy("audit purpose", "care")
    BOOKING = "booking", pgettext_lazy("audit purpose", "booking")
    ADMINISTRATION = "administration", pgettext_lazy("audit purpose", "administration")
    PATIENT_REQUEST = (
        "patient_request",
        pgettext_lazy("audit purpose", "patient's request"),
    )
    BREAK_GLASS = "break_glass", pgettext_lazy("audit purpose", "emergency access")
    SUPPORT = "support", pgettext_lazy("audit purpose", "support")


def _not_break_glass() -> Q:
    return ~Q(action=Action.BREAK_GLASS) & ~Q(purpose=Purpose.BREAK_GLASS)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Updates and deletes refuse to run; insertion stays open.

    record_event is the writer; a row inserted any other way without the
    chain head (bulk_create, raw SQL) is caught by verify_chain.
    """

    def update(self, **kwargs: Any) -> NoReturn:
        """Refused: audit events never change."""
        raise AuditTrailIsAppendOnly("audit events cannot be updated")

    def delete(self) -> NoReturn:
        """Refused: audit events are never deleted."""
        raise AuditTrailIsAppendOnly("audit events cannot be deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        """Refused: audit events never change."""
        raise AuditTrailIsAppendOnly("audit events cannot be updated")


class AuditEvent(models.Model):
    """One access to health data: who, which record, when, why, from which client (FHIR AuditEvent).

    Append-only and hash-chained: `hash` is SHA-256 over the canonical form of
    the fields listed in carnet.audit.chain.HASHED_FIELDS, `prev_hash` is the
    previous event's hash (GENESIS_HASH for the first), and no two events
    share a `prev_hash`, so the chain cannot fork. Written only by
    carnet.audit.services.record_event. The ORM refuses updates and deletes;
    on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE as well
    (migration 0002).

    Nothing here is health data: `patient_ref` and `resource` are opaque
    references, `actor_id` is a user id kept without a foreign key (deleting a
    user never deletes their trail), and `ip_pseudonym` is a keyed hash, never
    the address. `reason` is the exception: the break-glass reason is stored
    as the user typed it, and users are asked not to write clinical details
    in it.
    """

    occurred_at = models.DateTimeField(_("occurred at"))
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind)
    actor_label = models.CharField(_("actor label"), max_length=100, blank=True)
    patient_ref = models.CharField(_("patient reference"), max_length=100, blank=True)
    resource = models.CharField(_("resource"), max_length=200)
    action = models.CharField(_("action"), max_length=32, choices=Action)
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    flagged = models.BooleanField(_("flagged"), default=False)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_pseudonym = models.CharField(_("client pseudonym"), max_length=16, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["prev_hash"], name=PREV_HASH_UNIQUE),
            models.CheckConstraint(
                condition=_not_break_glass() | Q(flagged=True),
                name="audit_event_break_glass_is_flagged",
            ),
            models.CheckConstraint(
                condition=_not_break_glass() | ~Q(reason=""),
                name="audit_event_break_glass_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(reason="") | ~_not_break_glass(),
                name="audit_event_reason_only_for_break_glass",
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient_ref", "-occurred_at"], name="audit_event_patient_idx"
            ),
            models.Index(
                fields=["-occurred_at"],
                condition=Q(flagged=True),
                name="audit_event_flagged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.resource}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a new event; refuse to rewrite an existing one."""
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused: audit events are never deleted."""
        raise AuditTrailIsAppendOnly("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """The end of the audit chain: one row, locked by every writer of an event.

    `record_event` takes SELECT ... FOR UPDATE on this row, chains the new
    event to `last_hash` and moves the head, all in the caller's transaction,
    so that concurrent writers append one after the other. Verification also
    compares the head with the last event, which reveals events cut off the
    end of the chain.
    """

    id = models.PositiveSmallIntegerField(
        _("id"), primary_key=True, default=CHAIN_HEAD_ID
    )
    last_event_id = models.BigIntegerField(_("last event id"), null=True, blank=True)
    last_hash = models.CharField(_("last hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        constraints = [
            models.CheckConstraint(
                condition=Q(id=CHAIN_HEAD_ID), name="audit_chain_head_single_row"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.last_event_id} {self.last_hash[:12]}"
