"""`manage.py plan_reminders`: plan the reminders of every upcoming appointment."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carnet.booking.models import Appointment
from carnet.notifications.outbox import plan_appointment


class Command(BaseCommand):
    help = (
        "Write the reminders still owed for every upcoming booked appointment "
        "(never a confirmation): once, when the outbox is deployed on a database "
        "that already holds appointments. Idempotent: a second run adds nothing."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        upcoming = (
            Appointment.objects.filter(
                status=Appointment.Status.BOOKED, starts_at__gt=now
            )
            .select_related("agenda__practice", "motive", "patient")
            .order_by("pk")
        )
        written = 0
        for appointment in upcoming.iterator(chunk_size=500):
            with transaction.atomic():
                written += len(
                    plan_appointment(
                        appointment=appointment, now=now, with_confirmation=False
                    )
                )
        self.stdout.write(f"{written} reminders planned.")
