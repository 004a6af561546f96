"""The outbox of the patient's messages, and the SMS replies received.

A ``Message`` row is one message owed to a patient on one channel. It is
written in the transaction of the booking, move, cancellation or event that
causes it (carnet.notifications.outbox), together with the task that will
deliver it, so a committed change always has its messages and a rolled-back
one never has. It holds no content and no address: the text is rendered and
the patient's sealed e-mail address or phone number unsealed at send time, so
the outbox never holds personal data in clear, and an erased patient's
pending messages can no longer go anywhere.

``key`` is the message's idempotency key, unique: the same message can be
planned any number of times, it exists once. It travels with the message (the
e-mail's Message-ID, the SMS client reference), so the transport too can
recognise a second delivery of it (carnet.notifications.delivery).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

KEY_MAX_LENGTH = 200


class Message(models.Model):
    """One message owed to one patient on one channel (see the module docstring)."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", pgettext_lazy("message kind", "confirmation")
        REMINDER = "reminder", pgettext_lazy("message kind", "reminder")
        MOVED = "moved", pgettext_lazy("message kind", "appointment moved")
        CANCELLED = "cancelled", pgettext_lazy("message kind", "cancellation")
        RUNNING_LATE = "running_late", pgettext_lazy("message kind", "running late")
        OFFER = "offer", pgettext_lazy("message kind", "waiting-list offer")

    class Channel(models.TextChoices):
        EMAIL = "email", pgettext_lazy("message channel", "e-mail")
        SMS = "sms", pgettext_lazy("message channel", "SMS")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("message status", "scheduled")
        SENDING = "sending", pgettext_lazy("message status", "sending")
        SENT = "sent", pgettext_lazy("message status", "sent")
        DELIVERED = "delivered", pgettext_lazy("message status", "delivered")
        FAILED = "failed", pgettext_lazy("message status", "failed")
        CANCELLED = "cancelled", pgettext_lazy("message status", "not sent")

    PENDING = (Status.SCHEDULED, Status.SENDING)
    DONE = (Status.SENT, Status.DELIVERED)

    key = models.CharField(_("idempotency key"), max_length=KEY_MAX_LENGTH, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    appointment = models.ForeignKey(
        "booking.Appointment",
        verbose_name=_("appointment"),
        on_delete=models.CASCADE,
        related_name="messages",
        null=True,
        blank=True,
    )
    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    # What the text needs beyond the appointment, never personal data: the
    # previous start of a move (ISO 8601), who cancelled ("practice" or
    # "patient"), the minutes of a delay, the waiting-list offer's id.
    context = models.JSONField(_("context"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # While a worker sends it: the instant its claim lapses (a worker killed
    # mid-send leaves the row "sending"; another takes it over after this).
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=200, blank=True)
    # A code, never a server's answer (it may quote the address).
    error_code = models.CharField(_("last error"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["scheduled", "sending"]),
                name="message_pending",
            ),
            models.Index(fields=["appointment", "status"], name="message_appointment"),
            models.Index(
                fields=["practice", "failed_at"],
                condition=Q(status="failed"),
                name="message_failed",
            ),
            models.Index(fields=["patient", "channel", "sent_at"], name="message_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"

    @property
    def is_pending(self) -> bool:
        """Whether the message may still be sent."""
        return self.status in self.PENDING


class InboundReply(models.Model):
    """An SMS reply received from the provider, kept once by its message id.

    The provider may post the same inbound message more than once (it retries
    until it gets a 2xx): the unique ``provider_message_id`` makes the second
    post a no-op. The text itself is not kept, only what it did.
    """

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", pgettext_lazy("sms reply", "confirmed")
        CANCELLED = "cancelled", pgettext_lazy("sms reply", "cancelled")
        REFUSED = "refused", pgettext_lazy("sms reply", "refused")
        UNKNOWN = "unknown", pgettext_lazy("sms reply", "not understood")
        UNMATCHED = "unmatched", pgettext_lazy("sms reply", "no appointment found")

    provider_message_id = models.CharField(
        _("provider message id"), max_length=100, unique=True
    )
    message = models.ForeignKey(
        Message,
        verbose_name=_("message replied to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.provider_message_id}: {self.outcome}"


class OutboxSweep(models.Model):
    """One row: when the next sweep of the outbox is due (carnet.notifications.delivery).

    The sweep task enqueues its successor only when it wins this row, so
    however many chains were started, one survives.
    """

    next_at = models.DateTimeField(_("next sweep at"))

    class Meta:
        verbose_name = _("outbox sweep")
        verbose_name_plural = _("outbox sweeps")

    def __str__(self) -> str:
        return f"next sweep {self.next_at:%Y-%m-%dT%H:%M:%SZ}"
