"""Refusals raised by the scheduling selectors."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class AgendaNotFound(DomainError):
    """No active agenda with this id."""

    code = "agenda_not_found"
    kind = "not_found"
    message = _("This agenda does not exist or takes no booking.")


class MotiveNotFound(DomainError):
    """No active motive with this id on this agenda."""

    code = "motive_not_found"
    kind = "not_found"
    message = _("This visit motive does not exist for this agenda.")
