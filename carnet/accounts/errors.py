"""Refusals raised by the accounts services."""

from typing import Any

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


class PatientProfileExists(DomainError):
    """The account already has its own patient profile."""

    code = "patient_profile_exists"
    kind = "conflict"
    message = _("You already have a patient profile.")


class PatientNameInvalid(DomainError):
    """A patient needs a first and a last name, each of at most 150 characters."""

    code = "patient_name_invalid"
    message = _("Enter a first name and a last name (150 characters at most each).")


class BirthDateInvalid(DomainError):
    """A date of birth in the future, or too long ago to be real."""

    code = "birth_date_invalid"
    message = _("Enter a date of birth between 1900 and today.")


class RelationshipInvalid(DomainError):
    """A relative must be a child, a parent, a spouse or another relative."""

    code = "relationship_invalid"
    message = _("Choose how this person is related to you.")


class RelativeHasUpcomingAppointments(DomainError):
    """A relative with appointments still to come cannot be removed."""

    code = "relative_has_upcoming_appointments"
    kind = "conflict"
    message = _(
        "{name} still has upcoming appointments. Cancel them first, then remove "
        "this person."
    )


class SmsNeedsPhone(DomainError):
    """SMS reminders need a phone number on the account holder's profile."""

    code = "sms_needs_phone"
    message = _(
        "Add a mobile phone number to your profile to receive reminders by SMS."
    )


class ReminderOffsetInvalid(DomainError):
    """Reminder times must be among the offered ones, at least one when reminders are on."""

    code = "reminder_offset_invalid"
    message = _("Choose at least one reminder time among those offered.")


class AccountDeletionBlocked(DomainError):
    """Upcoming appointments are past their online cancellation cut-off.

    Deleting the account would leave them booked with nobody to come, or
    cancel them later than the practice allows: the patient calls the
    practice first. `appointments` lists them; nothing was changed.
    """

    code = "account_deletion_blocked"
    kind = "conflict"
    message = _(
        "Some upcoming appointments can no longer be cancelled online. Please call "
        "the practice to cancel them, then delete your account."
    )

    def __init__(self, *, appointments: list[Any]) -> None:
        super().__init__()
        self.appointments = appointments

    @property
    def details(self) -> dict[str, Any]:
        """The ids of the appointments inside their cut-off."""
        return {"appointments": [a.pk for a in self.appointments]}


class StaffAccountDeletionRefused(DomainError):
    """An account that works for a practice is closed by the practice, not from the patient area."""

    code = "staff_account_deletion_refused"
    kind = "forbidden"
    message = _(
        "This account is also used in a practice team. Ask the practice "
        "administrator to remove you from the team first."
    )


# -- roles and team -------------------------------------------------------------------


class NotAllowedForRole(DomainError):
    """The user is part of the practice's team, but their role does not allow this."""

    code = "not_allowed_for_role"
    kind = "forbidden"
    message = _("Your role at this practice does not allow this.")


class RoleInvalid(DomainError):
    """A team role must be practitioner, secretary or practice admin."""

    code = "role_invalid"
    message = _("Choose a role: practitioner, secretary or practice administrator.")


class InvitationEmailInvalid(DomainError):
    """The address to invite is not an e-mail address."""

    code = "invitation_email_invalid"
    message = _("Enter a valid e-mail address.")


class AlreadyMember(DomainError):
    """The person already holds this role at the practice."""

    code = "already_member"
    kind = "conflict"
    message = _("This person already holds this role in the team.")


class InvitationPending(DomainError):
    """Another invitation for the same address and role was sent at the same moment."""

    code = "invitation_pending"
    kind = "conflict"
    message = _(
        "An invitation for this address and role has just been sent. "
        "Withdraw it before sending a new one."
    )


class InvitationNotFound(DomainError):
    """No such invitation (or not this practice's): the same answer either way."""

    code = "invitation_not_found"
    kind = "not_found"
    message = _("This invitation does not exist. Check the link you received.")


class InvitationExpired(DomainError):
    """The invitation was not accepted in time."""

    code = "invitation_expired"
    kind = "conflict"
    message = _(
        "This invitation has expired. Ask the practice administrator to send a new one."
    )


class InvitationRevoked(DomainError):
    """The practice withdrew the invitation."""

    code = "invitation_revoked"
    kind = "conflict"
    message = _("This invitation was withdrawn by the practice.")


class InvitationAlreadyUsed(DomainError):
    """The invitation was accepted already: a link works once."""

    code = "invitation_already_used"
    kind = "conflict"
    message = _("This invitation has already been accepted.")


class InvitationEmailMismatch(DomainError):
    """The invitation was sent to an address this account has not verified."""

    code = "invitation_email_mismatch"
    kind = "forbidden"
    message = _(
        "This invitation was sent to another e-mail address. Sign in with the account "
        "of that address, or add and verify it on this account first."
    )


class MembershipNotFound(DomainError):
    """No such team member at this practice: the same answer for another practice's."""

    code = "membership_not_found"
    kind = "not_found"
    message = _("This person is not part of the team.")


class LastPracticeAdmin(DomainError):
    """A practice keeps at least one administrator: the last one cannot leave or change role."""

    code = "last_practice_admin"
    kind = "conflict"
    message = _(
        "A practice needs at least one administrator. Make someone else "
        "administrator first."
    )
