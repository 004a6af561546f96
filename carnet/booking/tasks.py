"""Background work of the booking context: each task fetches by id and calls one service."""

from django.utils import timezone

from carnet.booking import offers
from carnet.core.tasks import task


@task()
def expire_waitlist_offer(offer_id: int) -> None:
    """End a waiting-list offer nobody answered in time, and offer the slot on."""
    offers.expire_offer(offer_id=offer_id, now=timezone.now())
