"""The team invitation e-mail: who invites, to which practice, in which role, and the link.

The raw token is in the link only: it is never logged nor stored (the
invitation keeps its digest). Written in the invitee's language when they
already have an account, else in the inviter's. Sent after the invitation
committed; a mail server that refuses it is logged (without the address or
the token) and reported to the inviter, who can send it again.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from carnet.accounts.models import Invitation, User
from carnet.directory.models import Practice
from carnet.pro.workspace import practice_zone

logger = logging.getLogger(__name__)


def invitation_link(raw_token: str) -> str:
    """The absolute address of the acceptance page for this token."""
    path = reverse("pro:invitation-accept")
    query = urlencode({"token": raw_token})
    return f"{settings.CARNET_SITE_URL.rstrip('/')}{path}?{query}"


def invitation_language(*, invitation: Invitation, inviter: AbstractBaseUser) -> str:
    """The invitee's language if they have an account, else the inviter's."""
    invitee = User.objects.filter(email__iexact=invitation.email).first()
    for user in (invitee, inviter):
        language = getattr(user, "language", "")
        if language:
            return language
    return settings.LANGUAGE_CODE


def build_invitation(
    *, invitation: Invitation, raw_token: str, inviter: AbstractBaseUser
) -> EmailMultiAlternatives:
    """The invitation message (text and HTML) for `invitation`, with its link."""
    language = invitation_language(invitation=invitation, inviter=inviter)
    practice = Practice.objects.get(pk=invitation.practice_id)
    with translation.override(language):
        context = {
            "language": language,
            "practice": practice,
            "role": invitation.get_role_display(),
            "inviter": inviter.get_full_name(),
            "link": invitation_link(raw_token),
            "expires_at": invitation.expires_at,
            "zone": practice_zone(practice.pk),
        }
        subject = render_to_string("pro/emails/invitation_subject.txt", context)
        text = render_to_string("pro/emails/invitation.txt", context)
        html = render_to_string("pro/emails/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[invitation.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def send_invitation(
    *, invitation: Invitation, raw_token: str, inviter: AbstractBaseUser
) -> bool:
    """Send the invitation e-mail now; False (logged, never raised) if the server refused it."""
    message = build_invitation(
        invitation=invitation, raw_token=raw_token, inviter=inviter
    )
    try:
        message.send()
    except OSError:
        logger.exception(
            "invitation e-mail not sent", extra={"invitation": invitation.pk}
        )
        return False
    return True
