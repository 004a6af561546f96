"""Secret, revocable iCalendar feed URLs of an agenda (DESIGN: connected calendars).

The raw token appears once, in the URL given to the practice when the feed is
created; only its SHA-256 digest is stored, like API tokens (tokens are
high-entropy random strings, so no salt is needed). Serving the .ics itself,
with minimal content, is the job of the feed view.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from carnet.scheduling.errors import FeedNotFound
from carnet.scheduling.models import AgendaFeed
from carnet.scheduling.selectors import (
    SETTINGS_PERMISSION,
    get_managed_agenda,
    get_managed_object,
)

FEED_TOKEN_PREFIX = "cal_"  # noqa: S105 - a public marker, not a secret
_MAX_TOKEN_LENGTH = 128
# last_used_at is kept to the minute: calendar apps poll, a write per fetch is waste.
FEED_USE_RESOLUTION = timedelta(minutes=1)


def hash_feed_token(raw: str) -> str:
    """SHA-256 hex digest of a raw feed token."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_feed(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    show_patient_names: bool = False,
    name: str = "",
    request: HttpRequest | None = None,
) -> tuple[AgendaFeed, str]:
    """Create a feed of the agenda; returns the row and the raw token, shown once only.

    Patient names appear in the feed only with `show_patient_names`. For
    practice admins and practitioners with a second factor; raises the
    settings gate's errors.
    """
    agenda = get_managed_agenda(
        actor=actor,
        agenda_id=agenda_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    raw = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = AgendaFeed.objects.create(
        agenda=agenda,
        name=(name or "").strip()[:100],
        prefix=raw[:12],
        digest=hash_feed_token(raw),
        created_by=actor if actor.pk is not None else None,
        show_patient_names=bool(show_patient_names),
    )
    return feed, raw


@transaction.atomic
def revoke_feed(
    *, actor: AbstractBaseUser, feed_id: int, request: HttpRequest | None = None
) -> AgendaFeed:
    """Revoke feed `feed_id`: its URL stops working at once.

    Idempotent: revoking twice keeps the first instant. Raises FeedNotFound
    for a missing feed or another practice's, and the settings gate's errors.
    """
    feed = get_managed_object(
        actor=actor,
        model=AgendaFeed,
        pk=feed_id,
        permission=SETTINGS_PERMISSION,
        not_found=FeedNotFound,
        request=request,
    )
    now = timezone.now()
    AgendaFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    feed.refresh_from_db(fields=["revoked_at", "updated_at"])
    return feed


def get_feed_for_token(*, raw: str) -> AgendaFeed | None:
    """The live feed a raw token opens, with its agenda; None for any other token.

    None when the token is unknown, malformed or revoked, or when the agenda
    or its practice is inactive.
    """
    if (
        not isinstance(raw, str)
        or not raw.startswith(FEED_TOKEN_PREFIX)
        or len(raw) > _MAX_TOKEN_LENGTH
    ):
        return None
    return (
        AgendaFeed.objects.select_related("agenda", "agenda__practice")
        .filter(
            digest=hash_feed_token(raw),
            revoked_at__isnull=True,
            agenda__is_active=True,
            agenda__practice__is_active=True,
        )
        .first()
    )


def mark_feed_used(*, feed: AgendaFeed, now: datetime | None = None) -> bool:
    """Set the feed's last_used_at to `now`, unless it was set less than a minute ago.

    At most one write a minute whatever the number of fetches (a conditional
    UPDATE, so concurrent fetches write once). Returns whether it wrote, and
    keeps `feed.last_used_at` in step.
    """
    now = now or timezone.now()
    since = now - FEED_USE_RESOLUTION
    if feed.last_used_at is not None and feed.last_used_at > since:
        return False
    written = (
        AgendaFeed.objects.filter(pk=feed.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=since))
        .update(last_used_at=now)
    )
    if written:
        feed.last_used_at = now
    return bool(written)
