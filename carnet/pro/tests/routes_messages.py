"""The messages not delivered page, for the permission matrix.

Any role of the team sees it (VIEW_CONTACT_DETAILS: it names patients);
`extend` gives each practice a failed reminder to its patient, so that a
refusal showing the list would leak the patient's name.
"""

from datetime import timedelta

from django.utils import timezone

from carnet.accounts.roles import Permission
from carnet.notifications.models import Message
from carnet.pro.tests.matrix import Route


def _practice(w):
    return {"practice_id": w.practice.pk}


def extend(world):
    now = timezone.now()
    Message.objects.create(
        key=f"matrix-{world.tag}-failed-reminder",
        kind=Message.Kind.REMINDER,
        channel=Message.Channel.SMS,
        patient=world.patient,
        appointment=world.appointment,
        practice=world.practice,
        due_at=now - timedelta(hours=2),
        next_attempt_at=now - timedelta(hours=1),
        status=Message.Status.FAILED,
        attempts=5,
        failed_at=now - timedelta(hours=1),
        error_code="sms_rejected",
    )


ROUTES = [
    Route("pro:messages", Permission.VIEW_CONTACT_DETAILS, kwargs=_practice),
    Route(
        "pro:messages",
        Permission.VIEW_CONTACT_DETAILS,
        kwargs=_practice,
        query=lambda w: {"page": "2"},
    ),
]
