"""The practice settings pages: gates, forms, the live preview, absences, holidays, feeds."""

from datetime import date, time

import pytest
from django.conf import settings
from django.urls import reverse

from carnet.accounts.models import StaffMembership
from carnet.directory.tests.factories import LocationFactory
from carnet.pro.tests.conftest import paris
from carnet.scheduling.models import (
    Absence,
    Agenda,
    AgendaFeed,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
)

pytestmark = pytest.mark.django_db

PRACTITIONER = StaffMembership.Role.PRACTITIONER
SECRETARY = StaffMembership.Role.SECRETARY
ADMIN = StaffMembership.Role.PRACTICE_ADMIN


def html(response) -> str:
    return response.content.decode()


def rules_of(agenda) -> list[tuple]:
    """The agenda's rules as plain values, to assert that nothing changed."""
    return sorted(
        (r.weekday, r.opens_time, r.closes_time, r.valid_on, r.valid_until_on)
        for r in OpeningRule.objects.filter(agenda=agenda)
    )


@pytest.fixture
def practitioner(staff):
    return staff(PRACTITIONER)


@pytest.fixture
def client(signed_in, practitioner):
    """The practitioner's session, pages in English (French is the default)."""
    client = signed_in(practitioner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def french(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


@pytest.fixture
def booked(frozen_now, agenda, motive, anne, visit):
    """Anne booked on Tuesday 3 March 2026 at 09:00 (Paris)."""
    return visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive)


def agenda_pages(agenda, world_objects) -> list[str]:
    rule, motive, _absence, _feed = world_objects
    return [
        reverse("pro:settings", kwargs={"practice_id": agenda.practice_id}),
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:rule-edit", kwargs={"rule_id": rule.pk}),
        reverse("pro:settings-motives", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:motive-edit", kwargs={"motive_id": motive.pk}),
        reverse("pro:settings-feeds", kwargs={"agenda_id": agenda.pk}),
    ]


@pytest.fixture
def objects(agenda, motive, practitioner):
    from carnet.scheduling.feeds import create_feed

    rule = OpeningRule.objects.filter(agenda=agenda).first()
    absence = AbsenceFactory(
        agenda=agenda,
        starts_at=paris(2030, 1, 7, 8),
        ends_at=paris(2030, 1, 7, 12),
    )
    feed, _raw = create_feed(actor=practitioner, agenda_id=agenda.pk, name="Tél")
    return rule, motive, absence, feed


# ---------- the settings home ----------


def test_settings_home_lists_every_location_and_agenda(client, agenda):
    second_place = LocationFactory(practice=agenda.practice, city="Versailles")
    other = AgendaFactory(
        practice=agenda.practice,
        practitioner=agenda.practitioner,
        location=second_place,
        name="Agenda Versailles",
    )
    response = client.get(f"/pro/practices/{agenda.practice_id}/settings/")
    body = html(response)
    assert response.status_code == 200
    assert "Versailles" in body
    assert "Agenda Versailles" in body
    for current in (agenda, other):
        assert reverse("pro:settings-hours", kwargs={"agenda_id": current.pk}) in body
        assert (
            reverse("pro:settings-absences", kwargs={"agenda_id": current.pk}) in body
        )
    assert 'aria-current="page"' in body  # the Settings entry of the menu


# ---------- gates ----------


def test_an_outsider_gets_404_on_every_page_and_action(
    signed_in, other_practice_admin, agenda, objects, booked
):
    client = signed_in(other_practice_admin)
    rule, motive, absence, feed = objects
    gets = [
        *agenda_pages(agenda, objects),
        reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:settings-holidays", kwargs={"agenda_id": agenda.pk}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = {
        reverse("pro:rule-delete", kwargs={"rule_id": rule.pk}): {},
        reverse("pro:motive-deactivate", kwargs={"motive_id": motive.pk}): {},
        reverse("pro:absence-delete", kwargs={"absence_id": absence.pk}): {},
        reverse("pro:feed-revoke", kwargs={"feed_id": feed.pk}): {},
        reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk}): {
            "starts": "2026-03-03T08:00",
            "ends": "2026-03-03T12:00",
        },
        reverse("pro:holidays-apply", kwargs={"agenda_id": agenda.pk}): {
            "year": "2026"
        },
    }
    for url, data in posts.items():
        response = client.post(url, data)
        assert response.status_code == 404, url
        assert "Lefebvre" not in html(response)
    assert OpeningRule.objects.filter(pk=rule.pk).exists()
    assert VisitMotive.objects.get(pk=motive.pk).is_active
    assert Absence.objects.filter(agenda=agenda).count() == 1
    assert AgendaFeed.objects.get(pk=feed.pk).revoked_at is None


def test_a_secretary_is_refused_the_settings_but_manages_absences(
    staff, signed_in, agenda, objects, booked
):
    client = signed_in(staff(SECRETARY))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    _rule, _motive, _absence, feed = objects
    for url in agenda_pages(agenda, objects):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Lefebvre" not in html(response)
        assert "Anne" not in html(response)
    before = rules_of(agenda)
    response = client.post(
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "0", "opens": "07:00", "closes": "07:30"},
    )
    assert response.status_code == 403
    assert rules_of(agenda) == before
    response = client.post(
        reverse("pro:holidays-region", kwargs={"agenda_id": agenda.pk}),
        {"subdivision": "57"},
    )
    assert response.status_code == 403
    agenda.refresh_from_db()
    assert agenda.subdivision == ""
    assert (
        client.post(reverse("pro:feed-revoke", kwargs={"feed_id": feed.pk})).status_code
        == 403
    )
    assert AgendaFeed.objects.get(pk=feed.pk).revoked_at is None

    # Absences and holidays are hers to manage.
    absences = reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk})
    page = client.get(absences)
    assert page.status_code == 200
    assert "Absences" in html(page)
    assert "Opening hours" not in html(page)  # no tab that would refuse her
    response = client.post(
        absences,
        {"starts": "2026-03-03T08:00", "ends": "2026-03-03T12:00", "label": "Grève"},
    )
    assert response.status_code == 200
    assert Absence.objects.filter(agenda=agenda, label="Grève").exists()
    holidays = client.get(
        reverse("pro:settings-holidays", kwargs={"agenda_id": agenda.pk})
    )
    assert holidays.status_code == 200
    assert 'name="subdivision"' not in html(holidays)


def test_a_member_without_second_factor_is_refused(staff, agenda):
    from django.test import Client

    from conftest import login_with_totp

    user = staff(PRACTITIONER, mfa=False)
    client = Client()
    login_with_totp(client, email=user.email, password="secret-password")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk})
    )
    assert response.status_code in (302, 403)
    assert "Weekly opening hours" not in html(response)


# ---------- opening hours ----------


def test_adding_opening_hours_saves_them(client, agenda, motive):
    OpeningRule.objects.filter(agenda=agenda, weekday=5).delete()
    url = reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk})
    response = client.post(
        url,
        {"weekday": "5", "opens": "09:00", "closes": "12:00", "motives": [motive.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == url
    rule = OpeningRule.objects.get(agenda=agenda, weekday=5)
    assert (rule.opens_time, rule.closes_time) == (time(9), time(12))
    assert list(rule.motives.values_list("pk", flat=True)) == [motive.pk]
    page = client.get(url)
    assert "Saturday" in html(page)
    assert "09:00–12:00" in html(page)


def test_overlapping_hours_are_refused_with_a_translated_message(french, agenda):
    before = rules_of(agenda)
    response = french.post(
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "1", "opens": "17:00", "closes": "19:00"},
    )
    assert response.status_code == 400
    body = html(response)
    assert "chevauchent les horaires d’ouverture 08:00–18:00" in body
    assert 'id="id_opens_error"' in body  # tied to the field
    assert rules_of(agenda) == before


def test_closing_before_opening_is_refused_on_the_field(french, agenda):
    rule = OpeningRule.objects.get(agenda=agenda, weekday=1)
    before = rules_of(agenda)
    response = french.post(
        reverse("pro:rule-edit", kwargs={"rule_id": rule.pk}),
        {"weekday": "1", "opens": "12:00", "closes": "09:00"},
    )
    assert response.status_code == 400
    body = html(response)
    assert 'id="id_closes_error"' in body
    assert "L’heure de fermeture" in body or "fermeture" in body
    assert rules_of(agenda) == before


def test_unreadable_times_are_refused_without_a_crash(client, agenda):
    before = rules_of(agenda)
    response = client.post(
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "9", "opens": "25:00", "closes": "soon"},
    )
    assert response.status_code == 400
    body = html(response)
    assert 'id="id_weekday_error"' in body
    assert 'id="id_opens_error"' in body
    assert rules_of(agenda) == before


def test_editing_and_deleting_a_rule(client, agenda):
    rule = OpeningRule.objects.get(agenda=agenda, weekday=1)
    edit = reverse("pro:rule-edit", kwargs={"rule_id": rule.pk})
    page = client.get(edit)
    assert page.status_code == 200
    assert 'value="08:00"' in html(page)
    response = client.post(
        edit,
        {
            "weekday": "1",
            "opens": "08:00",
            "closes": "12:00",
            "valid_from": "2026-04-01",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.closes_time, rule.valid_on) == (time(12), date(2026, 4, 1))
    response = client.post(reverse("pro:rule-delete", kwargs={"rule_id": rule.pk}))
    assert response.status_code == 302
    assert not OpeningRule.objects.filter(pk=rule.pk).exists()


def test_the_preview_endpoint_shows_the_draft_and_saves_nothing(
    frozen_now, client, agenda, motive
):
    OpeningRule.objects.filter(agenda=agenda, weekday=5).delete()
    before = rules_of(agenda)
    response = client.post(
        reverse("pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "5", "opens": "09:00", "closes": "10:00", "week": "2026-03-09"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<section id="rule-preview"')
    assert "<html" not in body  # a partial
    # Saturday 14 March: three new 20-minute slots, marked new.
    saturday = body.split('data-day="2026-03-14"')[1].split("</li>\n        \n")[0]
    for start in ("09:00", "09:20", "09:40"):
        assert f'datetime="2026-03-14T{start}+01:00"' in saturday
    assert saturday.count("preview-slot--new") == 3
    assert "3 new slots" in body
    assert rules_of(agenda) == before


def test_the_preview_of_an_edit_counts_the_slots_lost(
    frozen_now, client, agenda, motive
):
    rule = OpeningRule.objects.get(agenda=agenda, weekday=1)
    response = client.post(
        reverse("pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}),
        {
            "rule": rule.pk,
            "weekday": "1",
            "opens": "08:00",
            "closes": "17:00",
            "week": "2026-03-10",
        },
    )
    body = html(response)
    assert "0 new slots" in body
    assert "3 slots fewer" in body
    tuesday = body.split('data-day="2026-03-10"')[1].split("</li>\n        \n")[0]
    assert "T16:40+01:00" in tuesday
    assert "T17:00+01:00" not in tuesday
    rule.refresh_from_db()
    assert rule.closes_time == time(18)


def test_the_preview_shows_the_services_refusal(client, agenda, motive):
    before = rules_of(agenda)
    response = client.post(
        reverse("pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "1", "opens": "07:00", "closes": "09:00"},
    )
    assert response.status_code == 200
    assert "overlap the opening hours 08:00–18:00" in html(response)
    assert rules_of(agenda) == before


def test_the_preview_button_without_javascript_saves_nothing(
    frozen_now, client, agenda, motive
):
    rule = OpeningRule.objects.get(agenda=agenda, weekday=1)
    before = rules_of(agenda)
    response = client.post(
        reverse("pro:rule-edit", kwargs={"rule_id": rule.pk}),
        {
            "weekday": "1",
            "opens": "10:00",
            "closes": "18:00",
            "week": "2026-03-10",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    body = html(response)
    assert "<html" in body
    assert 'id="rule-preview"' in body
    assert "6 slots fewer" in body
    assert rules_of(agenda) == before


def test_a_dst_week_previews_in_local_wall_clock_time(
    frozen_now, client, agenda, motive
):
    """Europe/Paris goes to summer time on Sunday 29 March 2026: hours stay 08:00 local."""
    OpeningRule.objects.filter(agenda=agenda).delete()
    response = client.post(
        reverse("pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "6", "opens": "01:00", "closes": "04:00", "week": "2026-03-25"},
    )
    body = html(response)
    sunday = body.split('data-day="2026-03-29"')[1].split("</li>\n        \n")[0]
    # 02:00–03:00 does not exist that night: the slots jump from 01:40 to 03:00.
    assert 'datetime="2026-03-29T01:40+01:00"' in sunday
    assert 'datetime="2026-03-29T03:00+02:00"' in sunday
    assert "T02:" not in sunday
    # A week earlier, the same rule gives 01:00–04:00 in winter time.
    response = client.post(
        reverse("pro:settings-hours-preview", kwargs={"agenda_id": agenda.pk}),
        {"weekday": "6", "opens": "01:00", "closes": "04:00", "week": "2026-03-16"},
    )
    assert 'datetime="2026-03-22T02:20+01:00"' in html(response)
    assert not OpeningRule.objects.filter(agenda=agenda).exists()


# ---------- visit motives ----------

MOTIVE = {
    "name": "Bilan annuel",
    "duration_minutes": "30",
    "channel": "video",
    "open_to_new_patients": "",
    "min_notice_minutes": "120",
    "horizon_days": "60",
    "cancellation_cutoff_hours": "48",
    "price": "26,50",
    "currency": "EUR",
    "colour": "#aa3366",
    "question_1": "Avez-vous  une ordonnance ?",
    "question_1_required": "on",
    "question_2": "",
    "question_3": "Numéro de mutuelle",
}


def test_adding_a_motive_with_price_colour_and_questions(client, agenda):
    response = client.post(
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}), MOTIVE
    )
    assert response.status_code == 302
    motive = VisitMotive.objects.get(agenda=agenda, name="Bilan annuel")
    assert motive.duration_minutes == 30
    assert motive.channel == "video"
    assert motive.open_to_new_patients is False
    assert (motive.min_notice_minutes, motive.horizon_days) == (120, 60)
    assert motive.cancellation_cutoff_hours == 48
    assert motive.price_minor == 2650
    assert motive.colour == "#AA3366"
    assert motive.booking_questions == [
        {"label": "Avez-vous une ordonnance ?", "required": True},
        {"label": "Numéro de mutuelle", "required": False},
    ]
    listing = html(client.get(response["Location"]))
    assert "Bilan annuel" in listing
    assert 'fill="#AA3366"' in listing


def test_a_bad_duration_is_refused_with_a_translated_message(french, agenda):
    response = french.post(
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}),
        {**MOTIVE, "duration_minutes": "7"},
    )
    assert response.status_code == 400
    body = html(response)
    assert 'id="id_duration_minutes_error"' in body
    assert "par pas de 5 minutes" in body
    assert not VisitMotive.objects.filter(name="Bilan annuel").exists()


@pytest.mark.parametrize(
    ("field", "value", "error_id"),
    [
        ("price", "12.345", "id_price_error"),
        ("colour", "red", "id_colour_error"),
        ("horizon_days", "0", "id_horizon_days_error"),
        ("question_3", "avez-vous une ORDONNANCE ?", "motive_errors"),
    ],
)
def test_bad_motive_input_changes_nothing(
    client, agenda, motive, field, value, error_id
):
    before = VisitMotive.objects.filter(pk=motive.pk).values().get()
    response = client.post(
        reverse("pro:motive-edit", kwargs={"motive_id": motive.pk}),
        {**MOTIVE, field: value},
    )
    assert response.status_code == 400
    assert f'id="{error_id}"' in html(response)
    assert VisitMotive.objects.filter(pk=motive.pk).values().get() == before


def test_editing_deactivating_and_reactivating_a_motive(client, agenda, motive):
    edit = reverse("pro:motive-edit", kwargs={"motive_id": motive.pk})
    page = html(client.get(edit))
    assert 'value="Consultation"' in page
    assert 'type="color"' in page
    assert (
        client.post(edit, {**MOTIVE, "name": "Consultation longue"}).status_code == 302
    )
    motive.refresh_from_db()
    assert motive.name == "Consultation longue"
    client.post(reverse("pro:motive-deactivate", kwargs={"motive_id": motive.pk}))
    motive.refresh_from_db()
    assert motive.is_active is False
    client.post(reverse("pro:motive-reactivate", kwargs={"motive_id": motive.pk}))
    motive.refresh_from_db()
    assert motive.is_active is True


# ---------- absences ----------


def test_an_absence_lists_the_appointments_it_covers(client, agenda, booked):
    url = reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk})
    response = client.post(
        url,
        {
            "starts": "2026-03-03T08:00",
            "ends": "2026-03-03T12:00",
            "label": "Formation",
        },
    )
    assert response.status_code == 200
    absence = Absence.objects.get(agenda=agenda, label="Formation")
    assert absence.starts_at == paris(2026, 3, 3, 8)  # read in the agenda's zone
    body = html(response)
    assert "Lefebvre" in body
    assert (
        reverse("pro:appointment-detail", kwargs={"appointment_id": booked.pk}) in body
    )


def test_an_absence_ending_before_it_starts_is_refused(french, agenda):
    response = french.post(
        reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk}),
        {"starts": "2026-03-03T12:00", "ends": "2026-03-03T08:00"},
    )
    assert response.status_code == 400
    assert 'id="id_ends_error"' in html(response)
    assert not Absence.objects.filter(agenda=agenda).exists()


def test_deleting_an_absence(client, agenda):
    absence = AbsenceFactory(
        agenda=agenda, starts_at=paris(2030, 1, 7, 8), ends_at=paris(2030, 1, 7, 12)
    )
    listing = html(
        client.get(reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk}))
    )
    assert "2030" in listing
    response = client.post(
        reverse("pro:absence-delete", kwargs={"absence_id": absence.pk})
    )
    assert response.status_code == 302
    assert not Absence.objects.filter(pk=absence.pk).exists()


# ---------- public holidays ----------


def test_public_holidays_are_listed_and_applied_on_request(
    frozen_now, client, agenda, booked
):
    url = reverse("pro:settings-holidays", kwargs={"agenda_id": agenda.pk})
    body = html(client.get(url))
    assert "Fête du Travail" in body
    assert "Noël" in body
    assert not Absence.objects.filter(agenda=agenda).exists()
    response = client.post(
        reverse("pro:holidays-apply", kwargs={"agenda_id": agenda.pk}),
        {"year": "2026"},
    )
    assert response.status_code == 200
    assert Absence.objects.filter(agenda=agenda, holiday_on=date(2026, 12, 25)).exists()
    count = Absence.objects.filter(agenda=agenda).count()
    assert f"{count} public holidays added" in html(response)
    again = client.post(
        reverse("pro:holidays-apply", kwargs={"agenda_id": agenda.pk}),
        {"year": "2026"},
    )
    assert "0 public holidays added" in html(again)
    assert Absence.objects.filter(agenda=agenda).count() == count


def test_the_region_changes_the_holidays(client, agenda):
    region = reverse("pro:holidays-region", kwargs={"agenda_id": agenda.pk})
    response = client.post(region, {"subdivision": "57"})
    assert response.status_code == 302
    agenda.refresh_from_db()
    assert agenda.subdivision == "57"
    page = html(
        client.get(reverse("pro:settings-holidays", kwargs={"agenda_id": agenda.pk}))
    )
    assert "Saint Étienne" in page or "Saint-Étienne" in page  # 26 December, Moselle
    bad = client.post(region, {"subdivision": "ZZ"})
    assert bad.status_code == 400
    assert 'id="id_subdivision_error"' in html(bad)
    agenda.refresh_from_db()
    assert agenda.subdivision == "57"


def test_a_bad_year_is_refused(client, agenda):
    response = client.post(
        reverse("pro:holidays-apply", kwargs={"agenda_id": agenda.pk}),
        {"year": "1850"},
    )
    assert response.status_code == 400
    assert "2000" in html(response)
    assert not Absence.objects.filter(agenda=agenda).exists()


# ---------- calendar feeds ----------


def test_a_new_feed_shows_its_secret_url_once(client, agenda):
    url = reverse("pro:settings-feeds", kwargs={"agenda_id": agenda.pk})
    response = client.post(url, {"name": "Téléphone", "show_patient_names": "on"})
    assert response.status_code == 200
    body = html(response)
    feed = AgendaFeed.objects.get(agenda=agenda)
    assert feed.show_patient_names is True
    assert feed.name == "Téléphone"
    start = body.index('<code id="feed-url">') + len('<code id="feed-url">')
    secret_url = body[start : body.index("</code>", start)]
    assert secret_url.startswith("http://testserver/pro/feeds/cal_")
    assert 'data-copy-target="feed-url"' in body
    assert (
        response["Cache-Control"].startswith("no-store")
        or "no-store" in response["Cache-Control"]
    )
    # The calendar app can read it; the page never shows it again.
    token = secret_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert client.get(f"/pro/feeds/{token}.ics").status_code == 200
    listing = html(client.get(url))
    assert token not in listing
    assert "Téléphone" in listing


def test_revoking_a_feed(client, agenda, practitioner):
    from carnet.scheduling.feeds import create_feed

    feed, raw = create_feed(actor=practitioner, agenda_id=agenda.pk)
    response = client.post(reverse("pro:feed-revoke", kwargs={"feed_id": feed.pk}))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert client.get(f"/pro/feeds/{raw}.ics").status_code == 404


def test_pages_render_for_an_agenda_without_motives(client, agenda):
    Agenda.objects.filter(pk=agenda.pk).update(name="Vide")
    body = html(
        client.get(reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}))
    )
    assert "Add a visit motive to see the slots" in body
    assert (
        client.get(
            reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk})
        ).status_code
        == 200
    )
    MotiveFactory(agenda=agenda)
    assert "Consultation" in html(
        client.get(reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}))
    )
