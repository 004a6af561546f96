"""Appointments (FHIR Appointment)."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.core.models import BaseModel
from carnet.vault.fields import SealedTextField

NO_OVERLAP_CONSTRAINT = "appointment_no_overlap"
IDEMPOTENCY_CONSTRAINT = "appointment_idempotency_key_unique"


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    """Reusable filters on appointments."""

    def active(self) -> "AppointmentQuerySet":
        """Appointments that occupy their time (everything but cancelled ones)."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def overlapping(self, start: datetime, end: datetime) -> "AppointmentQuerySet":
        """Appointments whose [starts_at, ends_at) meets [start, end)."""
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Appointment(BaseModel):
    """A booked visit on one agenda line (FHIR Appointment).

    No two non-cancelled appointments of one agenda overlap: on PostgreSQL an
    exclusion constraint (migration 0002) is the judge; on SQLite the booking
    service checks inside an IMMEDIATE transaction, which serialises writers.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", pgettext_lazy("appointment status", "booked")
        CANCELLED = "cancelled", pgettext_lazy("appointment status", "cancelled")
        NO_SHOW = "noshow", pgettext_lazy("appointment status", "no-show")
        FULFILLED = "fulfilled", pgettext_lazy("appointment status", "fulfilled")

    class Actor(models.TextChoices):
        PATIENT = "patient", pgettext_lazy("booked by", "patient")
        STAFF = "staff", pgettext_lazy("booked by", "staff")
        API = "api", pgettext_lazy("booked by", "API client")

    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    motive = models.ForeignKey(
        "scheduling.VisitMotive",
        verbose_name=_("motive"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.BOOKED
    )
    booked_by_kind = models.CharField(
        _("booked by (kind)"), max_length=16, choices=Actor, default=Actor.PATIENT
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Sealed under the patient's data key: the database only ever sees ciphertext.
    reason = SealedTextField(_("reason for the visit"), blank=True, max_length=2000)
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by_kind = models.CharField(
        _("cancelled by (kind)"), max_length=16, choices=Actor, blank=True
    )
    cancellation_reason = models.CharField(
        _("cancellation reason"), max_length=255, blank=True
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(
                fields=["agenda", "starts_at"], name="appointment_agenda_start"
            ),
            models.Index(
                fields=["patient", "starts_at"], name="appointment_patient_start"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="appointment_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name=IDEMPOTENCY_CONSTRAINT,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_id}@{self.starts_at:%Y-%m-%dT%H:%MZ}"

    def vault_subject(self) -> str:
        """The reason is sealed under the patient's own data key."""
        return self.patient.vault_subject()

    @property
    def is_active(self) -> bool:
        """Whether the appointment still occupies its time."""
        return self.status != self.Status.CANCELLED


HOLDER_CONSTRAINT = "slothold_one_per_holder"
HOLDER_MAX_LENGTH = 128


class SlotHoldQuerySet(models.QuerySet["SlotHold"]):
    """Reusable filters on slot holds."""

    def live(self, now: datetime) -> "SlotHoldQuerySet":
        """Holds that still keep their slot at `now`."""
        return self.filter(expires_at__gt=now)


class SlotHold(models.Model):
    """A slot kept for a few minutes for one visitor of the booking funnel.

    While live (``expires_at`` in the future) it is busy time for everyone but
    its holder (an opaque token from the visitor's session). A holder has at
    most one hold: a new hold replaces the previous one. Expired holds are
    ignored everywhere, and deleted opportunistically.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="holds",
    )
    motive = models.ForeignKey(
        "scheduling.VisitMotive",
        verbose_name=_("motive"),
        on_delete=models.CASCADE,
        related_name="holds",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    holder = models.CharField(_("holder"), max_length=HOLDER_MAX_LENGTH)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SlotHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("slot hold")
        verbose_name_plural = _("slot holds")
        indexes = [
            models.Index(fields=["agenda", "starts_at"], name="slothold_agenda_start"),
            models.Index(fields=["expires_at"], name="slothold_expires"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="slothold_ends_after_start",
            ),
            models.UniqueConstraint(fields=["holder"], name=HOLDER_CONSTRAINT),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_id}@{self.starts_at:%Y-%m-%dT%H:%MZ} ({self.expires_at:%H:%M:%SZ})"


class NextAvailability(models.Model):
    """The first free slots of one active motive: the index search results show.

    A cache of the availability engine, rewritten in the transaction of every
    booking, cancellation, move and hold of the agenda and when its rules
    change (carnet.booking.nextslots). `slots` holds up to N ISO 8601 UTC
    instants; `exhausted` says the horizon has no more than those; `stale_at`
    is when the passage of time alone may change the answer (a hold expires, a
    new slot enters the horizon).
    """

    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="next_availability",
    )
    motive = models.OneToOneField(
        "scheduling.VisitMotive",
        verbose_name=_("motive"),
        on_delete=models.CASCADE,
        related_name="next_availability",
    )
    slots = models.JSONField(_("first free slots"), default=list, blank=True)
    first_slot_at = models.DateTimeField(_("first free slot"), null=True, blank=True)
    exhausted = models.BooleanField(_("no more slots in the horizon"), default=False)
    computed_at = models.DateTimeField(_("computed at"))
    stale_at = models.DateTimeField(_("stale at"), null=True, blank=True)

    class Meta:
        verbose_name = _("next availability")
        verbose_name_plural = _("next availabilities")
        indexes = [
            models.Index(fields=["agenda"], name="nextavail_agenda"),
            models.Index(fields=["computed_at"], name="nextavail_computed"),
            models.Index(fields=["stale_at"], name="nextavail_stale"),
        ]

    def __str__(self) -> str:
        return f"{self.motive_id}: {self.first_slot_at or '-'}"

    def slot_instants(self) -> list[datetime]:
        """The stored slots as aware UTC datetimes."""
        return [datetime.fromisoformat(value) for value in self.slots]
