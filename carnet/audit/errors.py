"""Refusals raised by the audit services."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class BreakGlassReasonRequired(DomainError):
    """Break-glass access was attempted without a stated reason."""

    code = "break_glass_reason_required"
    message = _("State why you need to open this file without an appointment.")


class BreakGlassReasonTooLong(DomainError):
    """The stated break-glass reason is longer than the trail keeps."""

    code = "break_glass_reason_too_long"
    message = _("The reason is too long: {max_length} characters at most.")


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM.

    A programming error, not a user-facing refusal: the trail is written only
    by carnet.audit.services.record_event and never changed afterwards.
    """
