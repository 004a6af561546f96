"""Reads the public pages need that no other context offers as such."""

from dataclasses import dataclass

from django.db.models import Prefetch

from carnet.core.errors import NotFound
from carnet.directory.models import Location, Practitioner, PractitionerRole
from carnet.scheduling.models import Agenda
from carnet.scheduling.selectors import list_agendas_for_practitioners


class PractitionerNotFound(NotFound):
    """No active practitioner with that identifier."""

    code = "practitioner_not_found"


@dataclass(frozen=True, slots=True)
class PublicPractitioner:
    """A practitioner as patients see them: where they work and what can be booked."""

    practitioner: Practitioner
    agendas: list[Agenda]


def get_public_practitioner(*, pk: int) -> PublicPractitioner:
    """An active practitioner with their active agendas, each with `active_motives`."""
    roles = PractitionerRole.objects.filter(is_active=True).select_related(
        "practice", "location"
    )
    practitioner = (
        Practitioner.objects.filter(pk=pk, is_active=True)
        .select_related("specialty")
        .prefetch_related(Prefetch("roles", queryset=roles, to_attr="active_roles"))
        .first()
    )
    if practitioner is None:
        raise PractitionerNotFound()
    agendas = list_agendas_for_practitioners(practitioner_ids=[pk])[pk]
    return PublicPractitioner(practitioner=practitioner, agendas=agendas)


def get_public_location(*, pk: int) -> Location:
    """A location where an active practitioner works (what a map link may point at)."""
    location = (
        Location.objects.filter(
            pk=pk, roles__is_active=True, roles__practitioner__is_active=True
        )
        .distinct()
        .first()
    )
    if location is None:
        raise PractitionerNotFound()
    return location
