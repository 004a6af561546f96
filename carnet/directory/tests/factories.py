import factory

from carnet.directory.models import (
    Location,
    Practice,
    Practitioner,
    PractitionerRole,
    Specialty,
)


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ("code",)

    code = "general-practice"
    name_en = "General practice"
    name_fr = "Médecine générale"
    name_de = "Allgemeinmedizin"
    name_it = "Medicina generale"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Cabinet médical {n}")
    country = "FR"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    practice = factory.SubFactory(PracticeFactory)
    address = "12 rue de Rivoli"
    postcode = "75004"
    city = "Paris"
    country = "FR"
    latitude = 48.8556
    longitude = 2.3570


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    title = "Dr"
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    identifier_system = Practitioner.IdentifierSystem.RPPS
    identifier = factory.Sequence(lambda n: f"{10000000000 + n}")
    specialty = factory.SubFactory(SpecialtyFactory)
    languages = factory.LazyFunction(lambda: ["fr", "en"])


class PractitionerRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PractitionerRole

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    practice = factory.SelfAttribute("location.practice")
