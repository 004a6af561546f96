"""`{% load carnet %}`: dates, times, slots and phone numbers in the four languages."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from carnet.core.templatetags.carnet import (
    form_field,
    form_fields,
    local_compact_date,
    local_date,
    local_datetime,
    local_iso,
    local_short_date,
    local_time,
    phone_local,
    slot_label,
)

# Tuesday 3 March 2026, 08:20 UTC = 09:20 in Paris, Berlin and Rome (CET).
MOMENT = datetime(2026, 3, 3, 8, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "mardi 3 mars 2026 à 09:20"),
        ("de", "Dienstag, 3. März 2026, 09:20"),
        ("it", "martedì 3 marzo 2026, 09:20"),
        ("en", "Tuesday 3 March 2026, 09:20"),
    ],
)
def test_local_datetime_reads_naturally_in_each_language(language, expected):
    with translation.override(language):
        assert local_datetime(MOMENT, "Europe/Paris") == expected


@pytest.mark.parametrize(
    ("language", "date", "short"),
    [
        ("fr", "mardi 3 mars 2026", "mar 3 mars"),
        ("de", "Dienstag, 3. März 2026", "Di, 3. März"),
        ("it", "martedì 3 marzo 2026", "mar 3 marzo"),
        ("en", "Tuesday 3 March 2026", "Tue 3 March"),
    ],
)
def test_local_date_and_short_date(language, date, short):
    with translation.override(language):
        assert local_date(MOMENT, "Europe/Berlin") == date
        assert local_short_date(MOMENT, "Europe/Berlin") == short


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "mar 24 nov."),
        ("de", "Di, 24. Nov."),
        ("it", "mar 24 nov."),
        ("en", "Tue 24 Nov."),
    ],
)
def test_local_compact_date_abbreviates_the_month_for_slot_buttons(language, expected):
    late_autumn = datetime(
        2026, 11, 24, 23, 30, tzinfo=UTC
    )  # already the 25th in Paris
    with translation.override(language):
        assert local_compact_date(late_autumn, "UTC") == expected
        assert "25" in local_compact_date(late_autumn, "Europe/Paris")


@pytest.mark.parametrize("language", ["fr", "de", "it", "en"])
def test_local_time_is_24_hours_in_the_zone_given(language):
    with translation.override(language):
        assert local_time(MOMENT, "Europe/Rome") == "09:20"
        assert local_time(MOMENT, ZoneInfo("Europe/London")) == "08:20"
        assert local_time(MOMENT, "America/New_York") == "03:20"


def test_the_zone_decides_the_day():
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)

    with translation.override("en"):
        assert local_date(late, "Europe/Paris") == "Wednesday 4 March 2026"
        assert local_date(late, "UTC") == "Tuesday 3 March 2026"


def test_summer_time_is_applied():
    summer = datetime(2026, 7, 7, 7, 0, tzinfo=UTC)

    with translation.override("de"):
        assert (
            local_datetime(summer, "Europe/Berlin") == "Dienstag, 7. Juli 2026, 09:00"
        )


def test_iso_strings_naive_values_and_empty_values():
    with translation.override("en"):
        assert local_time("2026-03-03T08:20:00+00:00", "Europe/Paris") == "09:20"
        assert local_time(datetime(2026, 3, 3, 8, 20), "Europe/Paris") == "09:20"  # noqa: DTZ001
        assert local_datetime(None, "Europe/Paris") == ""
        assert local_datetime("", "Europe/Paris") == ""
        assert local_datetime("not a date", "Europe/Paris") == ""


def test_an_unknown_zone_is_a_template_error():
    with pytest.raises(TemplateSyntaxError):
        local_time(MOMENT, "Mars/Olympus_Mons")


def test_local_iso_carries_the_offset():
    assert local_iso(MOMENT, "Europe/Paris") == "2026-03-03T09:20+01:00"


@pytest.mark.parametrize(
    ("language", "date"),
    [
        ("fr", "mardi 3 mars 2026"),
        ("de", "Dienstag, 3. März 2026"),
        ("it", "martedì 3 marzo 2026"),
        ("en", "Tuesday 3 March 2026"),
    ],
)
def test_slot_label_shows_the_time_and_tells_screen_readers_the_date(language, date):
    with translation.override(language):
        html = slot_label(MOMENT, "Europe/Paris")
        with_day = slot_label(MOMENT, "Europe/Paris", show_day=True)

    assert html == (
        '<time datetime="2026-03-03T09:20+01:00">09:20</time>'
        f'<span class="visually-hidden"> ({date})</span>'
    )
    assert "09:20</span></time>" in with_day
    assert f"({date})" in with_day


def test_the_filters_work_in_a_template():
    template = Template(
        "{% load carnet %}{{ when|local_datetime:zone }} | {% slot_label when zone %}"
        " | {{ phone|phone_local }}"
    )
    context = Context({"when": MOMENT, "zone": "Europe/Paris", "phone": "+33123456789"})

    with translation.override("fr"):
        html = template.render(context)

    assert html.startswith("mardi 3 mars 2026 à 09:20 | <time ")
    assert html.endswith("| 01 23 45 67 89")


@pytest.mark.parametrize(
    ("number", "national"),
    [
        ("+33123456789", "01 23 45 67 89"),
        ("+33612345678", "06 12 34 56 78"),
        ("+4930123456", "030 123456"),
        ("+4915112345678", "01511 2345678"),
        ("+390612345678", "06 1234 5678"),
        ("+393471234567", "347 123 4567"),
        ("+442079460000", "020 7946 0000"),
    ],
)
def test_phone_local_is_the_national_format(number, national):
    assert phone_local(number) == national


def test_phone_local_shows_foreign_numbers_internationally_when_given_a_country():
    assert phone_local("+4930123456", "FR") == "+49 30 123456"
    assert phone_local("+33123456789", "fr") == "01 23 45 67 89"


def test_phone_local_leaves_what_it_cannot_parse():
    assert phone_local("") == ""
    assert phone_local(None) == ""
    assert phone_local("call the desk") == "call the desk"


class _Form(forms.Form):
    email = forms.EmailField(label="E-mail", help_text="We never share it.")
    note = forms.CharField(label="Note", required=False)
    agree = forms.BooleanField(label="I agree")
    when = forms.ChoiceField(
        label="When",
        choices=[("am", "Morning"), ("pm", "Afternoon")],
        widget=forms.RadioSelect,
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("Something is wrong.")


def test_form_field_ties_help_and_errors_to_the_control():
    form = _Form(data={"email": "nope"})
    form.is_valid()

    html = form_field(form["email"])

    assert html.startswith('<div class="form-field has-error"><label for="id_email">')
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert '<ul class="errorlist" id="id_email_error"><li>' in html
    assert '<div class="help" id="id_email_helptext">We never share it.</div>' in html


def test_form_field_marks_optional_fields_and_groups_radio_buttons():
    form = _Form()
    with translation.override("en"):
        note = form_field(form["note"])
    when = form_field(form["when"])
    agree = form_field(form["agree"])

    assert '<span class="muted">(optional)</span>' in note
    assert when.startswith(
        '<fieldset class="form-field fieldset"><legend>When</legend>'
    )
    assert agree.startswith(
        '<div class="form-field form-field--inline"><input type="checkbox"'
    )


def test_form_fields_renders_other_errors_hidden_fields_and_each_field():
    form = _Form(data={"email": "a@example.org", "agree": "on", "when": "am"})
    form.is_valid()

    html = form_fields(form)

    assert html.startswith('<div class="alert alert--error" role="alert">')
    assert "Something is wrong." in html
    assert html.count('type="hidden"') == 1
    assert html.count('class="form-field') == 4


def test_a_calendar_day_is_formatted_as_that_day_in_every_zone():
    from datetime import date

    from django.utils import translation

    with translation.override("fr"):
        assert (
            local_date(date(2026, 11, 24), "Europe/Paris") == "mardi 24 novembre 2026"
        )
        assert local_date(date(2026, 11, 24), "Pacific/Kiritimati").startswith("mardi")
