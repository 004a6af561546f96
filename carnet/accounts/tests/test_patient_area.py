from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.account.models import EmailAddress

from carnet.accounts.data_rights import (
    delete_account,
    export_patient_data,
)
from carnet.accounts.errors import (
    AccountDeletionBlocked,
    BirthDateInvalid,
    NoPatientProfile,
    PatientNameInvalid,
    PatientProfileExists,
    RelationshipInvalid,
    RelativeHasUpcomingAppointments,
    RelativeNotFound,
    ReminderOffsetInvalid,
    SmsNeedsPhone,
    StaffAccountDeletionRefused,
)
from carnet.accounts.models import (
    ApiToken,
    NotificationPreferences,
    Patient,
    StaffMembership,
    User,
)
from carnet.accounts.selectors import (
    find_patients_by_contact,
    get_notification_preferences,
)
from carnet.accounts.services import (
    add_relative,
    create_own_patient,
    mint_api_token,
    remove_relative,
    update_notification_preferences,
    update_own_patient,
    update_relative,
)
from carnet.accounts.tests.factories import (
    PatientFactory,
    RelativeFactory,
    UserFactory,
)
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment
from carnet.booking.services import book_appointment
from carnet.directory.tests.factories import PracticeFactory
from carnet.vault.errors import BlindIndexValueInvalid, KeyDestroyed

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book(motive, patient, starts_at, *, user=None, reason=""):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=user or patient.account,
        reason=reason,
    )


def fresh(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


# -- own profile -------------------------------------------------------------------


def test_creating_the_own_profile_seals_contact_data_and_indexes_them():
    user = UserFactory(email="anne@example.test")

    patient = create_own_patient(
        user=user,
        first_name=" Anne ",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
        phone="06 12 34 56 78",
        country="FR",
    )

    stored = fresh(patient)
    assert stored.account == user
    assert stored.relationship == Patient.Relationship.SELF
    assert (stored.first_name, stored.last_name) == ("Anne", "Martin")
    assert stored.birth_date == date(1990, 5, 17)
    assert stored.phone == "+33612345678"
    assert stored.email == "anne@example.test"
    assert stored.birth_date_sealed is not None
    assert b"1990" not in stored.birth_date_sealed
    assert list(find_patients_by_contact(phone="+33 6 12 34 56 78")) == [stored]
    assert list(find_patients_by_contact(email="ANNE@example.test")) == [stored]
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Anne", "Martin")


def test_a_second_own_profile_is_refused():
    patient = PatientFactory()

    with pytest.raises(PatientProfileExists):
        create_own_patient(
            user=patient.account, first_name="A", last_name="B", birth_date=None
        )

    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"first_name": " "}, PatientNameInvalid),
        ({"last_name": "x" * 151}, PatientNameInvalid),
        ({"birth_date": date(2999, 1, 1)}, BirthDateInvalid),
        ({"birth_date": date(1850, 1, 1)}, BirthDateInvalid),
        ({"phone": "06 12 34 56 78", "country": None}, BlindIndexValueInvalid),
        ({"phone": "not a phone"}, BlindIndexValueInvalid),
    ],
)
def test_bad_profile_input_creates_nothing(fields, error):
    user = UserFactory()
    values = {
        "first_name": "Anne",
        "last_name": "Martin",
        "birth_date": None,
        "phone": "",
        "country": "FR",
        **fields,
    }

    with pytest.raises(error):
        create_own_patient(user=user, **values)

    assert not Patient.objects.exists()


def test_updating_the_own_profile_replaces_its_fields():
    patient = PatientFactory(account__email="bob@example.test")

    update_own_patient(
        user=patient.account,
        first_name="Robert",
        last_name="Dupont",
        birth_date=date(1980, 1, 2),
        phone="+49 30 1234567",
        email="contact@example.test",
    )

    stored = fresh(patient)
    assert (stored.first_name, stored.last_name) == ("Robert", "Dupont")
    assert stored.birth_date == date(1980, 1, 2)
    assert stored.phone == "+49301234567"
    assert stored.email == "contact@example.test"
    assert list(find_patients_by_contact(email="contact@example.test")) == [stored]
    assert patient.account.first_name == "Robert"


def test_a_bad_profile_update_changes_nothing():
    patient = create_own_patient(
        user=UserFactory(),
        first_name="Anne",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
        phone="+33612345678",
    )

    with pytest.raises(BlindIndexValueInvalid):
        update_own_patient(
            user=patient.account,
            first_name="Other",
            last_name="Name",
            birth_date=None,
            phone="12",
        )

    stored = fresh(patient)
    assert stored.first_name == "Anne"
    assert stored.birth_date == date(1990, 5, 17)
    assert stored.phone == "+33612345678"


def test_updating_a_missing_profile_is_refused():
    with pytest.raises(NoPatientProfile):
        update_own_patient(
            user=UserFactory(), first_name="A", last_name="B", birth_date=None
        )


# -- relatives ---------------------------------------------------------------------


def test_a_relative_cannot_be_added_as_oneself():
    holder = PatientFactory()

    with pytest.raises(RelationshipInvalid):
        add_relative(
            holder=holder, first_name="Léa", last_name="M", relationship="self"
        )

    assert Patient.objects.count() == 1


def test_a_relative_is_updated_by_its_holder_only():
    relative = RelativeFactory(first_name="Léa")
    stranger = PatientFactory()

    with pytest.raises(RelativeNotFound):
        update_relative(
            user=stranger.account,
            patient_id=relative.pk,
            first_name="Mine",
            last_name="Now",
            relationship="child",
            birth_date=None,
        )
    update_relative(
        user=relative.managed_by.account,
        patient_id=relative.pk,
        first_name="Léa",
        last_name="Martin",
        relationship="spouse",
        birth_date=date(1992, 3, 4),
    )

    stored = fresh(relative)
    assert (stored.last_name, stored.relationship) == ("Martin", "spouse")
    assert stored.birth_date == date(1992, 3, 4)


def test_the_own_profile_is_not_a_relative():
    holder = PatientFactory()

    with pytest.raises(RelativeNotFound):
        remove_relative(user=holder.account, patient_id=holder.pk)

    assert Patient.objects.filter(pk=holder.pk).exists()


def test_a_relative_with_an_upcoming_appointment_cannot_be_removed(frozen_now, motive):
    relative = RelativeFactory(first_name="Léa")
    user = relative.managed_by.account
    book(motive, relative, paris(2026, 3, 5, 10, 0), user=user)

    with pytest.raises(RelativeHasUpcomingAppointments) as caught:
        remove_relative(user=user, patient_id=relative.pk)

    assert "Léa" in caught.value.render()
    assert fresh(relative).managed_by_id == relative.managed_by_id
    assert not AuditEvent.objects.filter(action="erase").exists()


def test_removing_a_relative_without_appointments_deletes_and_shreds_them():
    relative = add_relative(
        holder=PatientFactory(),
        first_name="Léa",
        last_name="M",
        relationship="child",
        birth_date=date(2015, 1, 1),
    )
    sealed = fresh(relative)

    remove_relative(user=relative.managed_by.account, patient_id=relative.pk)

    assert not Patient.objects.filter(pk=relative.pk).exists()
    with pytest.raises(KeyDestroyed):
        _ = Patient(
            vault_row=sealed.vault_row, birth_date_sealed=sealed.birth_date_sealed
        ).birth_date
    (event,) = AuditEvent.objects.filter(action="erase")
    assert event.patient_ref == f"patient:{relative.pk}"


def test_removing_a_relative_with_past_visits_keeps_only_their_name(motive):
    relative = RelativeFactory(first_name="Léa")
    user = relative.managed_by.account
    with time_machine.travel(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)):
        appointment = book(
            motive, relative, paris(2026, 3, 3, 10, 0), user=user, reason="otite"
        )

    with time_machine.travel(datetime(2026, 3, 10, 6, 0, tzinfo=UTC)):
        remove_relative(user=user, patient_id=relative.pk)

    stored = fresh(relative)
    assert (stored.account_id, stored.managed_by_id) == (None, None)
    assert stored.first_name == "Léa"
    with pytest.raises(KeyDestroyed):
        _ = Appointment.objects.get(pk=appointment.pk).reason


# -- notification preferences ------------------------------------------------------


def test_notification_preferences_default_to_emails_a_week_two_days_and_a_day_before():
    preferences = get_notification_preferences(user=UserFactory())

    assert preferences.pk is None
    assert preferences.email_reminders is True
    assert preferences.sms_reminders is False
    assert preferences.reminder_offsets == [168, 48, 24]


def test_notification_preferences_are_stored_latest_first():
    patient = PatientFactory(phone="+33612345678")

    update_notification_preferences(
        user=patient.account,
        email_reminders=False,
        sms_reminders=True,
        reminder_offsets=[2, 48, 2],
    )

    stored = NotificationPreferences.objects.get(user=patient.account)
    assert (stored.email_reminders, stored.sms_reminders) == (False, True)
    assert stored.reminder_offsets == [48, 2]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"reminder_offsets": [5]}, ReminderOffsetInvalid),
        ({"reminder_offsets": []}, ReminderOffsetInvalid),
        ({"sms_reminders": True}, SmsNeedsPhone),
    ],
)
def test_bad_notification_preferences_change_nothing(fields, error):
    user = PatientFactory().account
    update_notification_preferences(
        user=user, email_reminders=True, sms_reminders=False, reminder_offsets=[24]
    )
    values = {
        "email_reminders": True,
        "sms_reminders": False,
        "reminder_offsets": [24],
        **fields,
    }

    with pytest.raises(error):
        update_notification_preferences(user=user, **values)

    stored = NotificationPreferences.objects.get(user=user)
    assert (stored.sms_reminders, stored.reminder_offsets) == (False, [24])


# -- export ------------------------------------------------------------------------


def test_the_export_holds_profile_relatives_appointments_and_access_log(
    frozen_now, motive
):
    holder = create_own_patient(
        user=UserFactory(email="anne@example.test"),
        first_name="Anne",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
        phone="+33612345678",
    )
    relative = add_relative(
        holder=holder, first_name="Léa", last_name="Martin", relationship="child"
    )
    user = holder.account
    book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")
    book(motive, relative, paris(2026, 3, 5, 11, 0), user=user, reason="otite")
    PatientFactory()  # someone else: not in the export

    data = export_patient_data(user=user)

    assert data["format"] == "carnet-export"
    assert data["account"]["email"] == "anne@example.test"
    assert data["notification_preferences"]["reminder_offsets_hours"] == [168, 48, 24]
    own, child = data["patients"]
    assert (own["first_name"], own["birth_date"], own["phone"]) == (
        "Anne",
        "1990-05-17",
        "+33612345678",
    )
    assert child["relationship"] == "child"
    (visit,) = own["appointments"]
    assert visit["reason"] == "migraine"
    assert visit["starts_at"] == "2026-03-05T10:00:00+01:00"
    assert visit["time_zone"] == "Europe/Paris"
    assert visit["status"] == "booked"
    assert [a["reason"] for a in child["appointments"]] == ["otite"]
    assert [e["action"] for e in own["access_log"]] == ["export"]
    events = AuditEvent.objects.filter(action="export").order_by("patient_ref")
    assert sorted(e.patient_ref for e in events) == sorted(
        [f"patient:{holder.pk}", f"patient:{relative.pk}"]
    )
    assert {(e.actor_id, e.actor_kind, e.purpose) for e in events} == {
        (user.pk, "patient", "patient_request")
    }


# -- account deletion --------------------------------------------------------------


def test_deleting_an_account_cancels_shreds_and_closes_the_login(frozen_now, motive):
    holder = create_own_patient(
        user=UserFactory(email="anne@example.test"),
        first_name="Anne",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
        phone="+33612345678",
    )
    user = holder.account
    EmailAddress.objects.create(user=user, email=user.email, verified=True)
    mint_api_token(user=user)
    relative = add_relative(
        holder=holder,
        first_name="Léa",
        last_name="Martin",
        relationship="child",
        birth_date=date(2015, 1, 1),
    )
    mine = book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")
    theirs = book(motive, relative, paris(2026, 3, 6, 10, 0), user=user)

    result = delete_account(user=user)

    assert sorted(result.cancelled_appointment_ids) == sorted([mine.pk, theirs.pk])
    for appointment in Appointment.objects.filter(pk__in=[mine.pk, theirs.pk]):
        assert appointment.status == Appointment.Status.CANCELLED
        assert appointment.cancellation_reason == "account_deleted"
    with pytest.raises(KeyDestroyed):
        _ = fresh(holder).birth_date
    with pytest.raises(KeyDestroyed):
        _ = Appointment.objects.get(pk=mine.pk).reason
    with pytest.raises(KeyDestroyed):
        _ = fresh(relative).birth_date
    assert fresh(holder).phone_index == ""
    user = User.objects.get(pk=user.pk)
    assert user.is_active is False
    assert not user.has_usable_password()
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert (user.first_name, user.last_name) == ("", "")
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="erase").count() == 2


def test_patients_without_any_appointment_are_deleted_with_the_account():
    holder = PatientFactory()
    relative = RelativeFactory(managed_by=holder)

    delete_account(user=holder.account)

    assert not Patient.objects.filter(pk__in=[holder.pk, relative.pk]).exists()
    assert User.objects.filter(pk=holder.account_id, is_active=False).exists()


def test_an_appointment_inside_its_cut_off_blocks_the_deletion(frozen_now, motive):
    holder = PatientFactory(birth_date=date(1990, 5, 17))
    user = holder.account
    soon = book(motive, holder, paris(2026, 3, 2, 15, 0))  # 24 h cut-off: too late
    book(motive, holder, paris(2026, 3, 9, 15, 0))  # cancellable, but not alone

    with pytest.raises(AccountDeletionBlocked) as caught:
        delete_account(user=user)

    assert caught.value.appointments == [soon]
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    assert fresh(holder).birth_date == date(1990, 5, 17)
    assert User.objects.get(pk=user.pk).is_active is True
    assert not AuditEvent.objects.filter(action="erase").exists()


def test_a_practice_member_cannot_delete_their_account_from_the_patient_area():
    holder = PatientFactory()
    StaffMembership.objects.create(
        user=holder.account, practice=PracticeFactory(), role="secretary"
    )

    with pytest.raises(StaffAccountDeletionRefused):
        delete_account(user=holder.account)

    assert User.objects.get(pk=holder.account_id).is_active is True


def test_past_appointments_stay_for_the_practice_after_deletion(motive):
    holder = PatientFactory()
    with time_machine.travel(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)):
        past = book(motive, holder, paris(2026, 3, 3, 10, 0))

    with time_machine.travel(datetime(2026, 3, 10, 6, 0, tzinfo=UTC)):
        delete_account(user=holder.account)

    assert Appointment.objects.get(pk=past.pk).status == Appointment.Status.BOOKED
    stored = fresh(holder)
    assert stored.account_id is None
    assert stored.first_name == holder.first_name
