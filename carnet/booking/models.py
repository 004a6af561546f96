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
WAITLIST_LIVE_CONSTRAINT = "waitlist_one_live_per_patient_motive"
RUNNING_LATE_MAX_MINUTES = 240
EXCUSE_MAX_LENGTH = 1000


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    """Reusable filters on appointments."""

    def active(self) -> "AppointmentQuerySet":
        """Appointments that occupy their time (everything but cancelled ones)."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def overlapping(self, start: datetime, end: datetime) -> "AppointmentQuerySet":
        """Appointments whose [starts_at, ends_at) meets [start, end)."""
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class ConfirmedVia(models.TextChoices):
    """How the patient confirmed they will come."""

    LINK = "link", pgettext_lazy("confirmed by", "link in a reminder")
    SMS = "sms", pgettext_lazy("confirmed by", "SMS reply")


class Appointment(BaseModel):
    """A booked visit on one agenda line (FHIR Appointment).

    No two non-cancelled appointments of one agenda overlap, except those staff
    booked deliberately on top of another (`is_overbooked`): on PostgreSQL an
    exclusion constraint (migration 0006) is the judge; on SQLite the booking
    service checks inside an IMMEDIATE transaction, which serialises writers.

    On the day, staff move it along booked → arrived → in consultation →
    fulfilled (seen), or mark it a no-show once its start has passed
    (carnet.booking.staff.mark_status); each step keeps its instant.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", pgettext_lazy("appointment status", "booked")
        ARRIVED = "arrived", pgettext_lazy("appointment status", "arrived")
        IN_CONSULTATION = (
            "in_consultation",
            pgettext_lazy("appointment status", "in consultation"),
        )
        FULFILLED = "fulfilled", pgettext_lazy("appointment status", "seen")
        NO_SHOW = "noshow", pgettext_lazy("appointment status", "no-show")
        CANCELLED = "cancelled", pgettext_lazy("appointment status", "cancelled")

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
    # Answers to the motive's booking questions (carnet.booking.answers), sealed too.
    answers = SealedTextField(
        _("answers to the booking questions"), blank=True, max_length=20000
    )
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by_kind = models.CharField(
        _("cancelled by (kind)"), max_length=16, choices=Actor, blank=True
    )
    cancellation_reason = models.CharField(
        _("cancellation reason"), max_length=255, blank=True
    )
    # Booked by staff on top of another appointment: exempt from the no-overlap
    # constraint, and shown as such in the agenda.
    is_overbooked = models.BooleanField(_("overbooked"), default=False)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    consultation_started_at = models.DateTimeField(
        _("consultation started at"), null=True, blank=True
    )
    fulfilled_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("marked as no-show at"), null=True, blank=True)
    # The patient said "I'll be there" (a reminder's link or an SMS reply "1").
    # Cleared when the appointment moves: the new time is not confirmed yet.
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_via = models.CharField(
        _("confirmed by"), max_length=8, choices=ConfirmedVia, blank=True
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


class AppointmentChange(models.Model):
    """A move or cancellation of an appointment: its history, and whether the patient is told.

    Written in the transaction of the change itself (carnet.booking.staff; a
    patient's own reschedule too, without notice), together with the notice
    the outbox owes the patient (carnet.notifications.outbox), which fills
    `notified_at` when it writes that notice; its delivery is tracked on the
    outbox's messages. The calendar's SEQUENCE
    (booking.selectors.calendar_sequence) counts these rows, so it only grows.
    """

    class Kind(models.TextChoices):
        MOVED = "moved", pgettext_lazy("appointment change", "moved")
        CANCELLED = "cancelled", pgettext_lazy("appointment change", "cancelled")

    appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("appointment"),
        on_delete=models.CASCADE,
        related_name="changes",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    previous_starts_at = models.DateTimeField(
        _("previous start"), null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notify_patient = models.BooleanField(_("notify the patient"), default=True)
    notified_at = models.DateTimeField(_("patient notified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appointment change")
        verbose_name_plural = _("appointment changes")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notify_patient=True, notified_at__isnull=True),
                name="apptchange_to_notify",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.kind}"


class RunningLate(models.Model):
    """Staff said an agenda runs late by some minutes on one local day.

    `appointments` are those it concerned when declared (booked, not yet
    over, later that day): the outbox (carnet.notifications.outbox) writes
    their patients' notices in the same transaction and fills `notified_at`.
    """

    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="running_late",
    )
    day = models.DateField(_("day"))
    minutes = models.PositiveSmallIntegerField(_("minutes late"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    appointments = models.ManyToManyField(
        Appointment,
        verbose_name=_("appointments concerned"),
        blank=True,
        related_name="running_late",
    )
    notified_at = models.DateTimeField(_("patients notified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("running late")
        verbose_name_plural = _("running late")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["agenda", "day"], name="runninglate_agenda_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1, minutes__lte=RUNNING_LATE_MAX_MINUTES),
                name="runninglate_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agenda_id} {self.day}: +{self.minutes} min"


class NoShowPolicy(BaseModel):
    """How one practice counts missed appointments (never platform-wide).

    Each no-show staff mark is a strike that expires after
    `strike_expiry_days`; a patient with `strikes_to_block` active, unexcused
    strikes can no longer book online at this practice (staff still can). A
    practice without a row has the defaults.
    """

    practice = models.OneToOneField(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="no_show_policy",
    )
    enabled = models.BooleanField(_("count no-shows"), default=True)
    strikes_to_block = models.PositiveSmallIntegerField(
        _("no-shows before online booking is blocked"), default=3
    )
    strike_expiry_days = models.PositiveSmallIntegerField(
        _("days a no-show counts"), default=365
    )

    class Meta:
        verbose_name = _("no-show policy")
        verbose_name_plural = _("no-show policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(strikes_to_block__gte=1, strikes_to_block__lte=50),
                name="noshowpolicy_strikes_range",
            ),
            models.CheckConstraint(
                condition=Q(strike_expiry_days__gte=1, strike_expiry_days__lte=3650),
                name="noshowpolicy_expiry_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practice_id}: {self.strikes_to_block}/{self.strike_expiry_days}d"


class StrikeQuerySet(models.QuerySet["Strike"]):
    """Reusable filters on strikes."""

    def counted(self, now: datetime) -> "StrikeQuerySet":
        """Strikes that count at `now`: not excused and not expired."""
        return self.filter(excused_at__isnull=True, expires_at__gt=now)


class Strike(BaseModel):
    """One no-show of a patient at a practice, counted until it expires or is excused.

    The patient sees their strikes and may send an excuse (sealed under their
    data key); staff of the practice accept it (the strike stops counting) or
    refuse it.
    """

    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.CASCADE,
        related_name="no_show_strikes",
    )
    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="no_show_strikes",
    )
    appointment = models.OneToOneField(
        Appointment,
        verbose_name=_("appointment"),
        on_delete=models.CASCADE,
        related_name="strike",
    )
    expires_at = models.DateTimeField(_("expires at"))
    excuse_text = SealedTextField(_("excuse"), blank=True, max_length=EXCUSE_MAX_LENGTH)
    excuse_sent_at = models.DateTimeField(_("excuse sent at"), null=True, blank=True)
    excuse_decided_at = models.DateTimeField(
        _("excuse decided at"), null=True, blank=True
    )
    excuse_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("excuse decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    excused_at = models.DateTimeField(_("excused at"), null=True, blank=True)
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    objects = StrikeQuerySet.as_manager()

    class Meta:
        verbose_name = _("no-show strike")
        verbose_name_plural = _("no-show strikes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["patient", "practice", "expires_at"],
                name="strike_patient_practice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id}@{self.practice_id} until {self.expires_at:%Y-%m-%d}"

    def vault_subject(self) -> str:
        """The excuse is sealed under the patient's own data key."""
        return self.patient.vault_subject()

    def counts_at(self, now: datetime) -> bool:
        """Whether the strike counts towards blocking at `now`."""
        return self.excused_at is None and self.expires_at > now

    @property
    def excuse_pending(self) -> bool:
        """An excuse was sent and staff have not decided on it yet."""
        return self.excuse_sent_at is not None and self.excuse_decided_at is None


class WaitingListEntry(BaseModel):
    """A patient asks to be offered an earlier slot of one motive within a date range.

    At most one live (active or offered) entry per patient and motive. Offers
    are made by carnet.booking.offers (a freed slot is offered, the entry
    becomes `offered`, then `fulfilled` once booked, or `active` again when
    the offer is declined or lapses).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("waiting list entry", "waiting")
        OFFERED = "offered", pgettext_lazy("waiting list entry", "slot offered")
        FULFILLED = "fulfilled", pgettext_lazy("waiting list entry", "booked")
        CANCELLED = "cancelled", pgettext_lazy("waiting list entry", "cancelled")

    LIVE = (Status.ACTIVE, Status.OFFERED)

    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.CASCADE,
        related_name="waiting_list_entries",
    )
    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="waiting_list",
    )
    motive = models.ForeignKey(
        "scheduling.VisitMotive",
        verbose_name=_("motive"),
        on_delete=models.CASCADE,
        related_name="waiting_list",
    )
    earliest_on = models.DateField(_("from"))
    latest_on = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting list entry")
        verbose_name_plural = _("waiting list entries")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["agenda", "status", "latest_on"], name="waitlist_agenda"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_on__gte=F("earliest_on")),
                name="waitlist_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["patient", "motive"],
                condition=Q(status__in=["active", "offered"]),
                name=WAITLIST_LIVE_CONSTRAINT,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.motive_id} {self.earliest_on}–{self.latest_on}"

    @property
    def is_live(self) -> bool:
        """Whether the entry still waits for (or holds) an offer."""
        return self.status in self.LIVE


OFFER_LIVE_SLOT_CONSTRAINT = "waitlistoffer_one_live_per_slot"
OFFER_LIVE_ENTRY_CONSTRAINT = "waitlistoffer_one_live_per_entry"


class WaitlistOffer(models.Model):
    """A freed slot offered to one waiting-list entry for a few minutes.

    While `offered` and before `expires_at`, a SlotHold whose holder is
    ``offer:<ref>`` keeps the slot for this patient alone (carnet.booking.offers).
    The patient accepts (the slot is booked: `appointment`; a later
    appointment of theirs for the same motive is released:
    `released_appointment`) or declines; otherwise it expires. Declined,
    expired and withdrawn offers cascade to the next waiting entry. One live
    offer per slot and per entry, and a patient is never offered the same
    slot twice. `ref` is the opaque reference the patient's link carries
    (never the database id).
    """

    class Status(models.TextChoices):
        OFFERED = "offered", pgettext_lazy("waiting list offer", "offered")
        ACCEPTED = "accepted", pgettext_lazy("waiting list offer", "accepted")
        DECLINED = "declined", pgettext_lazy("waiting list offer", "declined")
        EXPIRED = "expired", pgettext_lazy("waiting list offer", "expired")
        WITHDRAWN = "withdrawn", pgettext_lazy("waiting list offer", "withdrawn")

    entry = models.ForeignKey(
        WaitingListEntry,
        verbose_name=_("waiting list entry"),
        on_delete=models.CASCADE,
        related_name="offers",
    )
    agenda = models.ForeignKey(
        "scheduling.Agenda",
        verbose_name=_("agenda"),
        on_delete=models.CASCADE,
        related_name="waitlist_offers",
    )
    motive = models.ForeignKey(
        "scheduling.VisitMotive",
        verbose_name=_("motive"),
        on_delete=models.CASCADE,
        related_name="waitlist_offers",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    ref = models.UUIDField(
        _("reference"), default=uuid.uuid4, editable=False, unique=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.OFFERED
    )
    expires_at = models.DateTimeField(_("offered until"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    freed_appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("appointment that freed the slot"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("appointment booked"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    released_appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("later appointment released"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("waiting list offer")
        verbose_name_plural = _("waiting list offers")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["agenda", "starts_at"], name="waitlistoffer_agenda_start"
            ),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="offered"),
                name="waitlistoffer_live_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="waitlistoffer_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["agenda", "starts_at"],
                condition=Q(status="offered"),
                name=OFFER_LIVE_SLOT_CONSTRAINT,
            ),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(status="offered"),
                name=OFFER_LIVE_ENTRY_CONSTRAINT,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}@{self.agenda_id}:{self.starts_at:%Y-%m-%dT%H:%MZ} {self.status}"

    @property
    def holder(self) -> str:
        """The holder token of the SlotHold that keeps the slot during the offer."""
        return f"offer:{self.ref}"

    def is_open_at(self, now: datetime) -> bool:
        """Whether the patient can still accept it at `now`."""
        return self.status == self.Status.OFFERED and now < self.expires_at
