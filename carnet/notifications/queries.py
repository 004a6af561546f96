"""Reads on the outbox for pages that already passed their gate: one appointment's messages.

The caller has checked the actor's right to the appointment and recorded the
read (carnet.pro.views.agenda's appointment page does both): the rows hold no
content and no address, only what was owed, when, and what became of it.
"""

from django.db.models import QuerySet

from carnet.notifications.models import Message


def list_messages_for_appointment(*, appointment_id: int) -> QuerySet[Message]:
    """The appointment's messages on every channel, oldest due first."""
    return Message.objects.filter(appointment_id=appointment_id).order_by(
        "due_at", "pk"
    )
