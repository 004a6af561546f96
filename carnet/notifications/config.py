"""The SMS provider's settings, read at call time (tests override them)."""

from django.conf import settings

from carnet.notifications.sms import VonageConfig


def sms_config() -> VonageConfig | None:
    """Vonage's settings, or None when SMS is not configured (no API key)."""
    if not settings.CARNET_VONAGE_API_KEY:
        return None
    return VonageConfig(
        base_url=settings.CARNET_VONAGE_BASE_URL,
        api_key=settings.CARNET_VONAGE_API_KEY,
        api_secret=settings.CARNET_VONAGE_API_SECRET,
        signature_secret=settings.CARNET_VONAGE_SIGNATURE_SECRET,
        sender=settings.CARNET_VONAGE_SENDER,
        timeout=settings.CARNET_VONAGE_TIMEOUT,
    )


def sms_replies_possible() -> bool:
    """Whether patients can answer our SMS (the sender is a number, not a name)."""
    sender = settings.CARNET_VONAGE_SENDER
    return bool(sender) and sender.lstrip("+").isdigit()
