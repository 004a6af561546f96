"""The message builders: minimal content, the patient's language, local time, SMS length."""

import inspect
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.notifications import messages
from carnet.notifications.messages import (
    CANCELLED_BY_PATIENT,
    CANCELLED_BY_PRACTICE,
    LINK_LENGTH_HINT,
    SMS_MAX_SEGMENTS,
    MessageContent,
    build_cancelled,
    build_confirmation,
    build_moved,
    build_reminder,
    build_running_late,
    fold_to_gsm7,
    sms_segments,
)
from carnet.notifications.sms import GSM7_BASIC, needs_unicode

LANGUAGES = ("fr", "de", "it", "en")
KINDS = ("confirmation", "reminder", "moved", "cancelled", "running_late")
BUILDERS = {
    "confirmation": build_confirmation,
    "reminder": build_reminder,
    "moved": build_moved,
    "cancelled": build_cancelled,
    "running_late": build_running_late,
}
PRACTITIONER = "Dr Anna Keller"
PRACTICE = "Praxis am See"
ADDRESS = "Seestrasse 12, 8002 Zürich"
ZONE = "Europe/Zurich"
# 07:20 UTC in summer and 08:20 UTC in winter are both 09:20 in Zurich.
SUMMER = datetime(2026, 7, 7, 7, 20, tzinfo=UTC)
WINTER = datetime(2026, 1, 13, 8, 20, tzinfo=UTC)
TOKEN = "A" * 34 + "." + "b" * 43  # the shape of links.make_action_token's output
CONFIRM_URL = f"https://carnet.example.ch/a/{TOKEN}/"
CANCEL_URL = f"https://carnet.example.ch/c/{TOKEN}/"
# What a message must never carry, whatever the caller has at hand.
FORBIDDEN = (
    "Dépistage VIH",
    "IVG",
    "Oncologie",
    "oncologist",
    "chimiothérapie",
    "1984-02-29",
    "29.02.1984",
    "+41791234567",
    "079 123 45 67",
)
GREETINGS = {"fr": "Bonjour", "de": "Guten Tag", "it": "Buongiorno", "en": "Hello"}
WHEN_LABELS = {"fr": "Quand", "de": "Wann", "it": "Quando", "en": "When"}
MONTHS_JULY = {"fr": "juillet", "de": "Juli", "it": "luglio", "en": "July"}


@pytest.fixture(autouse=True)
def notifications_installed(settings):
    """The app's templates are found once carnet.notifications is installed."""
    if "carnet.notifications" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "carnet.notifications"]


def build(kind: str, **overrides) -> MessageContent:
    """One message of `kind` with realistic values; `overrides` replace them."""
    values: dict = {
        "practitioner_name": PRACTITIONER,
        "practice_name": PRACTICE,
        "address": ADDRESS,
        "time_zone": ZONE,
        "starts_at": SUMMER,
        "language": "en",
    }
    if kind in ("confirmation", "reminder", "moved"):
        values["cancel_url"] = CANCEL_URL
    if kind in ("reminder", "moved"):
        values["confirm_url"] = CONFIRM_URL
    if kind == "moved":
        values["previous_starts_at"] = WINTER
    if kind == "cancelled":
        values["cancelled_by"] = CANCELLED_BY_PRACTICE
    if kind == "running_late":
        values["minutes"] = 20
    values.update(overrides)
    return BUILDERS[kind](**values)


class _Markup(HTMLParser):
    """Collects the tags and attributes of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)


def markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("starts_at", [SUMMER, WINTER], ids=["summer", "winter"])
def test_every_kind_says_who_where_and_the_local_time(kind, language, starts_at):
    message = build(kind, language=language, starts_at=starts_at)

    assert message.kind == kind
    assert message.language == language
    for part in (message.text, message.html, message.sms):
        assert PRACTITIONER in part
        assert PRACTICE in part
        assert "09:20" in part  # Zurich wall-clock time, CET or CEST
        assert "07:20" not in part
        assert "08:20" not in part
    assert ADDRESS in message.text
    assert ADDRESS in message.html
    assert ZONE in message.text
    assert PRACTITIONER in message.subject
    assert "\n" not in message.subject


@pytest.mark.parametrize(
    ("starts_at", "zone", "local"),
    [
        # The spring-forward day: 08:00 UTC is 10:00 CEST, not 09:00.
        (datetime(2026, 3, 29, 8, 0, tzinfo=UTC), "Europe/Paris", "10:00"),
        # The fall-back day: 08:00 UTC is 09:00 CET, not 10:00.
        (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), "Europe/Paris", "09:00"),
        # The night of the change: 00:30 UTC is 02:30 CEST the first time round.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Berlin", "02:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Berlin", "02:30"),
        (datetime(2026, 7, 7, 7, 20, tzinfo=UTC), "Europe/Lisbon", "08:20"),
    ],
)
def test_times_are_in_the_agendas_zone_across_dst(starts_at, zone, local):
    message = build("reminder", starts_at=starts_at, time_zone=zone, language="fr")

    assert local in message.sms
    assert local in message.text
    iso = starts_at.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")
    assert f'datetime="{iso}"' in message.html


def test_moved_shows_the_new_and_the_previous_time():
    message = build(
        "moved",
        starts_at=datetime(2026, 7, 7, 12, 0, tzinfo=UTC),
        previous_starts_at=datetime(2026, 1, 13, 8, 20, tzinfo=UTC),
        language="de",
    )

    assert "14:00" in message.text  # CEST
    assert "09:20" in message.text  # CET, the old time
    assert "Juli" in message.text
    assert "Januar" in message.text
    assert "<del>" in message.html
    assert "14:00" in message.sms


def test_a_naive_previous_time_is_refused():
    with pytest.raises(ValueError, match="previous_starts_at"):
        build("moved", previous_starts_at=datetime(2026, 1, 13, 9, 20))  # noqa: DTZ001


@pytest.mark.parametrize("kind", KINDS)
def test_builders_have_no_parameter_for_anything_but_who_where_when(kind):
    """The minimal-content rule is in the signature: no door for health data."""
    builder = BUILDERS[kind]
    parameters = inspect.signature(builder).parameters
    allowed = {
        "practitioner_name",
        "practice_name",
        "address",
        "time_zone",
        "starts_at",
        "language",
        "confirm_url",
        "cancel_url",
        "sms_replies",
        "ics",
        "previous_starts_at",
        "cancelled_by",
        "minutes",
        # The other appointment of a duplicate pair: who, where, when only
        # (test_messages_offer.py checks nothing else is read from it).
        "duplicate",
    }
    assert set(parameters) <= allowed
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert not [
        name
        for name in parameters
        if re.search(r"reason|motive|special|birth|phone|patient|note", name)
    ]
    for smuggled in ("reason", "visit_reason", "motive", "motive_name", "specialty"):
        with pytest.raises(TypeError):
            build(kind, **{smuggled: FORBIDDEN[0]})


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_no_health_or_personal_data_reaches_any_part(kind, language):
    message = build(kind, language=language)
    everything = " ".join((message.subject, message.text, message.html, message.sms))

    for forbidden in FORBIDDEN:
        assert forbidden.lower() not in everything.lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_switches_the_strings_and_the_dates(language):
    message = build("reminder", language=language)

    assert GREETINGS[language] in message.text
    assert GREETINGS[language] in message.html
    assert WHEN_LABELS[language] in message.text
    assert MONTHS_JULY[language] in message.text
    assert MONTHS_JULY[language] in message.sms
    assert f'<html lang="{language}">' in message.html
    for other, greeting in GREETINGS.items():
        if other != language:
            assert greeting not in message.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_html_is_plain_and_links_only_to_the_action_urls(kind, language):
    message = build(kind, language=language)
    document = markup(message.html)

    assert ("html", "lang", language) in document.attributes
    assert not {"img", "style", "script", "link", "iframe"} & set(document.tags)
    assert not [a for a in document.attributes if a[1] in {"style", "src", "class"}]
    hrefs = [value for tag, name, value in document.attributes if name == "href"]
    assert set(hrefs) <= {CONFIRM_URL, CANCEL_URL}
    for url in re.findall(r"https?://[^\s\"'<>]+", message.html):
        assert url in {CONFIRM_URL, CANCEL_URL}


@pytest.mark.parametrize(
    ("kind", "urls"),
    [
        ("confirmation", {CANCEL_URL}),
        ("reminder", {CONFIRM_URL, CANCEL_URL}),
        ("moved", {CONFIRM_URL, CANCEL_URL}),
        ("cancelled", set()),
        ("running_late", set()),
    ],
)
def test_text_part_carries_the_same_links_as_the_html(kind, urls):
    message = build(kind)

    hrefs = {
        value for _, name, value in markup(message.html).attributes if name == "href"
    }
    assert hrefs == urls
    assert set(re.findall(r"https?://\S+", message.text)) == urls


def test_without_urls_there_are_no_links_at_all():
    message = build("reminder", confirm_url=None, cancel_url=None)

    assert "http" not in message.html
    assert "http" not in message.text
    assert "http" not in message.sms
    assert "<a " not in message.html


def test_names_are_escaped_in_html_and_kept_in_text():
    message = build("confirmation", practice_name="Cabinet <b>Rive</b> & Co")

    assert "Cabinet &lt;b&gt;Rive&lt;/b&gt; &amp; Co" in message.html
    assert "<b>" not in message.html
    assert "Cabinet <b>Rive</b> & Co" in message.text


def test_line_breaks_in_values_cannot_break_the_subject():
    message = build("reminder", practitioner_name="Dr Anna\r\nBcc: x@example.org")

    assert "\n" not in message.subject
    assert "\r" not in message.subject
    assert "Dr Anna Bcc: x@example.org" in message.subject


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"starts_at": datetime(2026, 7, 7, 9, 20)}, "starts_at"),  # noqa: DTZ001
        ({"time_zone": "Europe/Nowhere"}, "time zone"),
        ({"cancel_url": "/c/token/"}, "cancel_url"),
        ({"cancel_url": "javascript:alert(1)"}, "cancel_url"),
        ({"confirm_url": 'https://carnet.example.ch/"><img src=x>'}, "confirm_url"),
        ({"practitioner_name": "   "}, "practitioner_name"),
    ],
)
def test_bad_values_are_refused(overrides, error):
    with pytest.raises(ValueError, match=error):
        build("reminder", **overrides)


def test_cancelled_says_who_cancelled_as_the_practice_or_you():
    by_practice = build("cancelled", cancelled_by=CANCELLED_BY_PRACTICE)
    by_patient = build("cancelled", cancelled_by=CANCELLED_BY_PATIENT)

    assert "The practice has cancelled" in by_practice.text
    assert "You have cancelled" in by_patient.text
    assert "practice cancelled" in by_practice.sms
    assert "You cancelled" in by_patient.sms
    with pytest.raises(ValueError, match="cancelled_by"):
        build("cancelled", cancelled_by="Mme Dupont, secretary")


def test_running_late_counts_minutes_and_refuses_nonsense():
    assert "1 minute late" in build("running_late", minutes=1).text
    assert "25 minutes late" in build("running_late", minutes=25).text
    assert "25 min late" in build("running_late", minutes=25).sms
    for minutes in (0, -5, True, 2.5):
        with pytest.raises(ValueError, match="minutes"):
            build("running_late", minutes=minutes)


def test_ics_is_passed_through_and_announced():
    calendar = b"BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    with_file = build("cancelled", ics=calendar)
    without = build("cancelled")

    assert with_file.ics == calendar
    assert without.ics is None
    assert "removes the appointment from your calendar" in with_file.text
    assert "calendar" not in without.text


def test_reply_codes_only_where_a_reply_means_something():
    assert "Reply 1" in build("reminder").sms
    assert "Reply 1" in build("moved").sms
    assert "Reply 1" not in build("reminder", sms_replies=False).sms
    for kind in ("confirmation", "cancelled", "running_late"):
        assert "Reply" not in build(kind).sms


# Realistic long names: nothing is shortened.
LONG_NAME = "Dr Marie-Christine Dupont-Lefebvre"
LONG_PRACTICE = "Cabinet médical des Acacias - Hôpital de la Tour"
# Names past any reasonable length: shortened to fit, the link never.
HUGE_NAME = "Prof. Dr med. Marie-Christine Dupont-Lefebvre de la Rochefoucauld"
HUGE_PRACTICE = (
    "Centre médical universitaire des Acacias - Hôpital de la Tour, site Meyrin"
)
LONG_URL = "https://rendez-vous.carnet.example.ch/r/" + TOKEN + "/"
LINK_KINDS = ("confirmation", "reminder", "moved")


def long_sms(kind: str, *, language: str, name: str, practice: str) -> MessageContent:
    overrides: dict = {
        "practitioner_name": name,
        "practice_name": practice,
        "language": language,
        # August: "août" folds to "aout" in French.
        "starts_at": datetime(2026, 8, 4, 7, 20, tzinfo=UTC),
    }
    if kind in LINK_KINDS:
        overrides["cancel_url"] = LONG_URL
    return build(kind, **overrides)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_sms_fits_two_gsm7_segments_with_long_names_and_a_link(kind, language):
    assert len(LONG_URL) >= LINK_LENGTH_HINT
    message = long_sms(kind, language=language, name=LONG_NAME, practice=LONG_PRACTICE)

    assert not needs_unicode(message.sms), message.sms
    assert message.sms_is_unicode is False
    assert message.sms_segments <= SMS_MAX_SEGMENTS, (len(message.sms), message.sms)
    assert LONG_NAME in message.sms
    assert "Cabinet médical des Acacias - Hopital de la Tour" in message.sms
    assert "..." not in message.sms
    if kind in LINK_KINDS:
        assert message.sms.endswith(LONG_URL)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_huge_names_are_shortened_in_the_sms_never_the_link(kind, language):
    message = long_sms(kind, language=language, name=HUGE_NAME, practice=HUGE_PRACTICE)

    assert message.sms_segments <= SMS_MAX_SEGMENTS, (len(message.sms), message.sms)
    assert "Prof. Dr med." in message.sms
    assert "Centre médical" in message.sms
    if kind in LINK_KINDS:
        assert message.sms.endswith(LONG_URL)
    # The e-mail has room: it keeps both names whole.
    assert HUGE_NAME in message.text
    assert HUGE_PRACTICE in message.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_plain_reminder_without_link_fits_one_segment(language):
    message = build("reminder", language=language, cancel_url=None)

    assert message.sms_segments == 1, (len(message.sms), message.sms)
    assert message.sms.count("http") == 0


def test_a_name_outside_gsm7_makes_a_unicode_sms_that_still_names_them():
    message = build("reminder", practitioner_name="Δρ Παπαδοπούλου")

    assert message.sms_is_unicode
    assert "Παπαδοπούλου" in message.sms


gsm7_names = st.text(
    alphabet=st.sampled_from(GSM7_BASIC.replace("\n", "").replace("\r", "") + "€[]"),
    min_size=1,
    max_size=200,
).filter(str.strip)


@given(name=gsm7_names, practice=gsm7_names, language=st.sampled_from(LANGUAGES))
def test_any_gsm7_names_fit_two_segments_with_the_link(name, practice, language):
    message = build(
        "moved",
        practitioner_name=name,
        practice_name=practice,
        language=language,
        cancel_url=LONG_URL,
    )

    assert not message.sms_is_unicode
    assert message.sms_segments <= SMS_MAX_SEGMENTS
    assert message.sms.endswith(LONG_URL)


def test_a_unicode_sms_that_cannot_fit_keeps_readable_names():
    message = build(
        "reminder",
        practitioner_name="Δρ Αικατερίνη Παπαδοπούλου-Κωνσταντινίδου",
        practice_name="Ιατρείο Παπαδοπούλου, Κέντρο Υγείας Αθηνών",
        cancel_url=LONG_URL,
    )

    assert message.sms_is_unicode
    assert message.sms.endswith(LONG_URL)
    assert "Δρ Αικατερίνη Πα..." in message.sms
    assert "Ιατρείο Παπαδοπο..." in message.sms


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("😀" * 35, 1),  # outside the BMP: two UCS-2 units each
        ("😀" * 36, 2),
    ],
)
def test_sms_segments(text, segments):
    assert sms_segments(text) == segments


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("août", "aout"),
        ("Côte-d’Ivoire", "Cote-d'Ivoire"),
        ("François", "Francois"),
        ("Œuvre «ici»", 'OEuvre "ici"'),
        ("Quand\u00a0:", "Quand :"),
        (
            "Zürich, Müller, Straße, élève, città",
            "Zürich, Müller, Straße, élève, città",
        ),
        ("Łódź", "Łodz"),  # Ł has no GSM-7 form: kept, the SMS goes as Unicode
    ],
)
def test_fold_to_gsm7(text, folded):
    assert fold_to_gsm7(text) == folded


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x24F)))
def test_folding_is_idempotent_and_keeps_gsm7_text(text):
    once = fold_to_gsm7(text)

    assert fold_to_gsm7(once) == once
    if not needs_unicode(text):
        assert once == text


@given(st.text(alphabet=st.sampled_from(GSM7_BASIC + "âêîôûëïÿçÂÊÎÔÛËÏÁÍÓÚáíóúãõ’«»–")))
def test_latin_text_folds_into_gsm7(text):
    assert not needs_unicode(fold_to_gsm7(text))


def test_the_module_lists_every_kind():
    # The offer has its own tests (test_messages_offer.py): it takes a link
    # and an expiry the others do not.
    assert (*KINDS, "offer") == messages.KINDS
