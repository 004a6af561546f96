"""Refusals raised by the accounts services."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class NoPatientProfile(DomainError):
    """The user has no patient profile, so cannot book for themselves."""

    code = "no_patient_profile"
    kind = "forbidden"
    message = _("This account has no patient profile.")


class RelativeNotFound(DomainError):
    """The patient named is neither the user nor one of their relatives."""

    code = "patient_not_found"
    kind = "not_found"
    message = _("This person is not among the patients you may book for.")


class MfaRequired(DomainError):
    """Staff must use a second factor before any access to patient data."""

    code = "mfa_required"
    kind = "forbidden"
    message = _(
        "Set up and use two-factor authentication (an authenticator app or a passkey) "
        "before accessing patient data."
    )


class NotStaffOfPractice(DomainError):
    """The user holds no (suitable) role at this practice; same answer if it does not exist."""

    code = "practice_not_found"
    kind = "not_found"
    message = _("This practice does not exist or you are not part of its team.")
