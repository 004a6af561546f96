"""Reads on the outbox for a practice's team: the messages that could not be delivered.

A failed delivery must be visible to staff, who can then reach the patient
another way. The list names patients, so it is a read of their data: the
gate is VIEW_CONTACT_DETAILS with a second factor, and one audit event is
recorded per patient on the page shown (carnet.booking.access).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest

from carnet.accounts.roles import Permission, require_permission
from carnet.audit.models import ActorKind, Purpose
from carnet.booking.access import record_staff_reads
from carnet.notifications.models import Message

FAILED_PER_PAGE = 50
CONTEXT_WINDOW = timedelta(hours=24)


def failed_messages_resource(practice_id: int) -> str:
    """The audit resource of the practice's list of messages not delivered."""
    return f"practice:{practice_id}:failed-messages"


@dataclass(frozen=True, slots=True)
class FailedMessagesPage:
    """One page of a practice's failed messages, and the outbox's recent activity.

    `scheduled_next_day`: messages still scheduled, due in the 24 hours after
    `now`; `sent_last_day`: messages sent (or delivered) in the 24 hours
    before it.
    """

    messages: list[Message]
    number: int
    num_pages: int
    count: int
    scheduled_next_day: int
    sent_last_day: int

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number < self.num_pages


def list_failed_messages(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    now: datetime,
    page: int = 1,
    per_page: int = FAILED_PER_PAGE,
    request: HttpRequest | None = None,
    actor_kind: str = ActorKind.STAFF,
) -> FailedMessagesPage:
    """The practice's messages whose delivery failed, most recent failure first.

    For members whose role grants VIEW_CONTACT_DETAILS (every role of the
    team today), with a second factor. Each message comes with its patient
    and its appointment's agenda. A page past the last is the last. Records
    one read event per patient on the page (none for the others). Raises the
    refusals of require_permission (nothing is recorded then).
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.VIEW_CONTACT_DETAILS,
        request=request,
    )
    failed = (
        Message.objects.filter(practice_id=practice_id, status=Message.Status.FAILED)
        .select_related("patient", "appointment__agenda")
        .order_by(F("failed_at").desc(nulls_last=True), "-pk")
    )
    paginator = Paginator(failed, per_page)
    found = paginator.get_page(page)
    shown = list(found.object_list)
    of_practice = Message.objects.filter(practice_id=practice_id)
    scheduled = of_practice.filter(
        status=Message.Status.SCHEDULED,
        due_at__gte=now,
        due_at__lt=now + CONTEXT_WINDOW,
    ).count()
    sent = of_practice.filter(
        status__in=Message.DONE,
        sent_at__gt=now - CONTEXT_WINDOW,
        sent_at__lte=now,
    ).count()
    record_staff_reads(
        actor=actor,
        actor_kind=actor_kind,
        patient_ids=[message.patient_id for message in shown],
        resource=failed_messages_resource(practice_id),
        purpose=Purpose.ADMINISTRATION,
    )
    return FailedMessagesPage(
        messages=shown,
        number=found.number,
        num_pages=paginator.num_pages,
        count=paginator.count,
        scheduled_next_day=scheduled,
        sent_last_day=sent,
    )
