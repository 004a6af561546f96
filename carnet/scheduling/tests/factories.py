from datetime import time

import factory

from carnet.directory.tests.factories import PractitionerRoleFactory
from carnet.scheduling.models import Absence, Agenda, OpeningRule, VisitMotive


class AgendaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agenda
        exclude = ("role",)

    role = factory.SubFactory(PractitionerRoleFactory)
    practice = factory.SelfAttribute("role.practice")
    practitioner = factory.SelfAttribute("role.practitioner")
    location = factory.SelfAttribute("role.location")
    time_zone = "Europe/Paris"


class MotiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitMotive

    agenda = factory.SubFactory(AgendaFactory)
    name = "Consultation"
    duration_minutes = 20
    min_notice_minutes = 60
    horizon_days = 90
    cancellation_cutoff_hours = 24


class OpeningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningRule

    agenda = factory.SubFactory(AgendaFactory)
    weekday = 0
    opens_time = time(8)
    closes_time = time(18)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    agenda = factory.SubFactory(AgendaFactory)
    label = "Congés"
