import factory

from carnet.accounts.models import Patient, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("secret-password")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    account = factory.SubFactory(UserFactory)
    first_name = factory.SelfAttribute("account.first_name")
    last_name = factory.SelfAttribute("account.last_name")


class RelativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    account = None
    managed_by = factory.SubFactory(PatientFactory)
    relationship = Patient.Relationship.CHILD
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.SelfAttribute("managed_by.last_name")
