"""Practice settings services: who may change what, refusals that change nothing, indexes kept true."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from carnet.accounts.errors import MfaRequired
from carnet.accounts.models import User
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment, NextAvailability
from carnet.core.errors import DomainError
from carnet.directory.models import SearchEntry
from carnet.scheduling import feeds, holidays, services
from carnet.scheduling.errors import (
    AbsenceLabelInvalid,
    AbsenceNotFound,
    AbsencePeriodInvalid,
    AgendaSettingsNotFound,
    BookingQuestionsInvalid,
    CancellationCutoffInvalid,
    ChannelInvalid,
    ColourInvalid,
    CurrencyInvalid,
    FeedNotFound,
    HorizonInvalid,
    MotiveDurationInvalid,
    MotiveNameInvalid,
    MotiveNotFound,
    NoticeInvalid,
    OpeningHoursInvalid,
    OpeningRuleNotFound,
    OpeningRulesOverlap,
    PriceInvalid,
    SettingsForbidden,
    ValidityInvalid,
    WeekdayInvalid,
)
from carnet.scheduling.models import (
    Absence,
    Agenda,
    AgendaFeed,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.preview import RuleDraft
from carnet.scheduling.selectors import get_agenda_settings
from carnet.scheduling.tests.conftest import ROLES
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from conftest import NOW

TUESDAY = date(2026, 3, 3)


def _paris(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Paris in March 2026 (CET, UTC+1), as UTC."""
    return datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)


def snapshot() -> tuple:
    """Everything the settings services write, to assert a refusal changed nothing."""
    return (
        list(
            OpeningRule.objects.order_by("pk").values_list(
                "pk",
                "agenda_id",
                "weekday",
                "opens_time",
                "closes_time",
                "valid_on",
                "valid_until_on",
                "updated_at",
            )
        ),
        list(
            OpeningRule.motives.through.objects.order_by("pk").values_list(
                "openingrule_id", "visitmotive_id"
            )
        ),
        list(VisitMotive.objects.order_by("pk").values()),
        list(Absence.objects.order_by("pk").values()),
        list(AgendaFeed.objects.order_by("pk").values()),
        list(
            Agenda.objects.order_by("pk").values_list("pk", "subdivision", "updated_at")
        ),
        AuditEvent.objects.count(),
    )


# -- the permission matrix -------------------------------------------------


@pytest.fixture
def scene(empty_agenda, consultation):
    """The empty agenda with one rule, one absence and one feed to act on."""
    rule = OpeningRuleFactory(
        agenda=empty_agenda, weekday=0, opens_time=time(8), closes_time=time(12)
    )
    absence = AbsenceFactory(
        agenda=empty_agenda,
        starts_at=_paris(date(2026, 4, 1), 8),
        ends_at=_paris(date(2026, 4, 1), 18),
    )
    feed = AgendaFeed.objects.create(
        agenda=empty_agenda, prefix="cal_x", digest="0" * 64
    )
    return {
        "agenda": empty_agenda,
        "motive": consultation,
        "rule": rule,
        "absence": absence,
        "feed": feed,
    }


SETTINGS = "settings"  # practice admins and practitioners
ABSENCES = "absences"  # the whole team
READ = "read"  # the whole team

OPERATIONS = {
    "create_opening_rule": (
        SETTINGS,
        lambda actor, s: services.create_opening_rule(
            actor=actor,
            agenda_id=s["agenda"].pk,
            weekday=2,
            opens_time=time(8),
            closes_time=time(12),
        ),
    ),
    "update_opening_rule": (
        SETTINGS,
        lambda actor, s: services.update_opening_rule(
            actor=actor,
            rule_id=s["rule"].pk,
            weekday=0,
            opens_time=time(13),
            closes_time=time(17),
        ),
    ),
    "delete_opening_rule": (
        SETTINGS,
        lambda actor, s: services.delete_opening_rule(
            actor=actor, rule_id=s["rule"].pk
        ),
    ),
    "replace_opening_rules": (
        SETTINGS,
        lambda actor, s: services.replace_opening_rules(
            actor=actor,
            agenda_id=s["agenda"].pk,
            rules=[RuleDraft(weekday=4, opens=time(9), closes=time(11))],
        ),
    ),
    "create_motive": (
        SETTINGS,
        lambda actor, s: services.create_motive(
            actor=actor, agenda_id=s["agenda"].pk, name="Vaccination"
        ),
    ),
    "update_motive": (
        SETTINGS,
        lambda actor, s: services.update_motive(
            actor=actor, motive_id=s["motive"].pk, duration_minutes=30
        ),
    ),
    "deactivate_motive": (
        SETTINGS,
        lambda actor, s: services.deactivate_motive(
            actor=actor, motive_id=s["motive"].pk
        ),
    ),
    "reactivate_motive": (
        SETTINGS,
        lambda actor, s: services.reactivate_motive(
            actor=actor, motive_id=s["motive"].pk
        ),
    ),
    "set_agenda_subdivision": (
        SETTINGS,
        lambda actor, s: holidays.set_agenda_subdivision(
            actor=actor, agenda_id=s["agenda"].pk, subdivision="57"
        ),
    ),
    "create_feed": (
        SETTINGS,
        lambda actor, s: feeds.create_feed(actor=actor, agenda_id=s["agenda"].pk),
    ),
    "revoke_feed": (
        SETTINGS,
        lambda actor, s: feeds.revoke_feed(actor=actor, feed_id=s["feed"].pk),
    ),
    "create_absence": (
        ABSENCES,
        lambda actor, s: services.create_absence(
            actor=actor,
            agenda_id=s["agenda"].pk,
            starts_at=_paris(date(2026, 4, 2), 8),
            ends_at=_paris(date(2026, 4, 2), 12),
            label="Formation",
        ),
    ),
    "delete_absence": (
        ABSENCES,
        lambda actor, s: services.delete_absence(
            actor=actor, absence_id=s["absence"].pk
        ),
    ),
    "apply_public_holidays": (
        ABSENCES,
        lambda actor, s: holidays.apply_public_holidays(
            actor=actor, agenda_id=s["agenda"].pk, year=2026
        ),
    ),
    "get_agenda_settings": (
        READ,
        lambda actor, s: get_agenda_settings(
            actor=actor, agenda_id=s["agenda"].pk, now=NOW
        ),
    ),
}

NOT_FOUND = {
    "create_opening_rule": AgendaSettingsNotFound,
    "update_opening_rule": OpeningRuleNotFound,
    "delete_opening_rule": OpeningRuleNotFound,
    "replace_opening_rules": AgendaSettingsNotFound,
    "create_motive": AgendaSettingsNotFound,
    "update_motive": MotiveNotFound,
    "deactivate_motive": MotiveNotFound,
    "reactivate_motive": MotiveNotFound,
    "set_agenda_subdivision": AgendaSettingsNotFound,
    "create_feed": AgendaSettingsNotFound,
    "revoke_feed": FeedNotFound,
    "create_absence": AgendaSettingsNotFound,
    "delete_absence": AbsenceNotFound,
    "apply_public_holidays": AgendaSettingsNotFound,
    "get_agenda_settings": AgendaSettingsNotFound,
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_of_the_practice_may_do_what_its_role_allows(
    frozen_now, scene, make_staff, operation, role
):
    scope, call = OPERATIONS[operation]
    actor = make_staff(scene["agenda"].practice, role)
    allowed = scope in (ABSENCES, READ) or role != "secretary"
    before = snapshot()

    if allowed:
        call(actor, scene)
        if scope != READ and operation != "reactivate_motive":  # already active
            assert snapshot() != before
    else:
        with pytest.raises(SettingsForbidden) as caught:
            call(actor, scene)
        assert caught.value.kind == "forbidden"
        assert snapshot() == before


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("role", [*ROLES, None])
def test_staff_of_another_practice_are_told_it_does_not_exist(
    frozen_now, scene, make_staff, other_practice, operation, role
):
    _, call = OPERATIONS[operation]
    if role is None:
        actor = make_staff(other_practice, "practice_admin")
        actor.memberships.all().delete()
    else:
        actor = make_staff(other_practice, role)
    before = snapshot()

    with pytest.raises(NOT_FOUND[operation]) as caught:
        call(actor, scene)

    assert caught.value.kind == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_missing_objects_get_the_same_answer_as_other_practices(
    frozen_now, scene, admin, operation
):
    _, call = OPERATIONS[operation]
    missing = dict.fromkeys(scene, SimpleNamespace(pk=999_999))
    before = snapshot()

    with pytest.raises(NOT_FOUND[operation]):
        call(admin, missing)

    assert snapshot() == before


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_member_without_a_second_factor_is_refused(
    frozen_now, scene, make_staff, operation
):
    _, call = OPERATIONS[operation]
    actor = make_staff(scene["agenda"].practice, "practice_admin", mfa=False)
    before = snapshot()

    with pytest.raises(MfaRequired):
        call(actor, scene)

    assert snapshot() == before


def test_a_session_that_skipped_the_second_factor_is_refused(frozen_now, scene, admin):
    request = RequestFactory().post("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = admin
    before = snapshot()

    with pytest.raises(MfaRequired):
        services.create_motive(
            actor=admin, agenda_id=scene["agenda"].pk, name="Suivi", request=request
        )

    assert snapshot() == before


def test_a_platform_administrator_with_a_second_factor_needs_no_membership(
    frozen_now, scene, enroll_totp
):
    root = User.objects.create_superuser("root@example.test", "a-long-pw-123")
    enroll_totp(root)

    motive = services.create_motive(
        actor=root, agenda_id=scene["agenda"].pk, name="Suivi"
    )

    assert motive.agenda_id == scene["agenda"].pk


def test_an_anonymous_actor_is_refused(frozen_now, scene):
    before = snapshot()

    with pytest.raises(DomainError):
        services.create_motive(
            actor=AnonymousUser(), agenda_id=scene["agenda"].pk, name="Suivi"
        )

    assert snapshot() == before


# -- opening rules ---------------------------------------------------------


def test_an_opening_rule_is_saved_with_its_motives(frozen_now, empty_agenda, admin):
    first = MotiveFactory(agenda=empty_agenda, name="Première consultation")
    MotiveFactory(agenda=empty_agenda, name="Suivi")

    rule = services.create_opening_rule(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=1,
        opens_time=time(8, 30),
        closes_time=time(12),
        valid_on=date(2026, 3, 1),
        valid_until_on=date(2026, 6, 30),
        motive_ids=[first.pk],
    )

    rule.refresh_from_db()
    assert (rule.weekday, rule.opens_time, rule.closes_time) == (
        1,
        time(8, 30),
        time(12),
    )
    assert (rule.valid_on, rule.valid_until_on) == (date(2026, 3, 1), date(2026, 6, 30))
    assert list(rule.motives.values_list("pk", flat=True)) == [first.pk]


def test_touching_rules_and_rules_for_other_motives_may_share_a_day(
    frozen_now, empty_agenda, admin
):
    first = MotiveFactory(agenda=empty_agenda)
    second = MotiveFactory(agenda=empty_agenda)
    create = services.create_opening_rule
    create(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=0,
        opens_time=time(8),
        closes_time=time(12),
        motive_ids=[first.pk],
        valid_until_on=date(2026, 12, 31),
    )

    create(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=0,
        opens_time=time(12),
        closes_time=time(14),
    )
    create(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=0,
        opens_time=time(9),
        closes_time=time(11),
        motive_ids=[second.pk],
    )
    create(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=0,
        opens_time=time(9),
        closes_time=time(11),
        motive_ids=[first.pk],
        valid_on=date(2027, 1, 1),
    )

    assert OpeningRule.objects.filter(agenda=empty_agenda).count() == 4


def test_a_rule_may_be_moved_within_its_own_hours(frozen_now, scene, admin):
    rule = services.update_opening_rule(
        actor=admin,
        rule_id=scene["rule"].pk,
        weekday=0,
        opens_time=time(9),
        closes_time=time(13),
    )

    assert (rule.opens_time, rule.closes_time) == (time(9), time(13))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"opens_time": time(12), "closes_time": time(8)}, OpeningHoursInvalid),
        ({"opens_time": time(12), "closes_time": time(12)}, OpeningHoursInvalid),
        ({"opens_time": None}, OpeningHoursInvalid),
        ({"weekday": 7}, WeekdayInvalid),
        ({"weekday": -1}, WeekdayInvalid),
        (
            {"valid_on": date(2026, 6, 1), "valid_until_on": date(2026, 5, 31)},
            ValidityInvalid,
        ),
        ({"opens_time": time(11), "closes_time": time(13)}, OpeningRulesOverlap),
        ({"opens_time": time(7), "closes_time": time(19)}, OpeningRulesOverlap),
        ({"motive_ids": [999_999]}, MotiveNotFound),
    ],
)
def test_a_bad_opening_rule_is_refused_and_changes_nothing(
    frozen_now, scene, admin, changes, error
):
    arguments = {
        "weekday": 0,
        "opens_time": time(14),
        "closes_time": time(18),
        **changes,
    }
    before = snapshot()

    with pytest.raises(error):
        services.create_opening_rule(
            actor=admin, agenda_id=scene["agenda"].pk, **arguments
        )

    assert snapshot() == before


def test_overlap_message_names_the_hours_overlapped(frozen_now, scene, admin):
    with pytest.raises(OpeningRulesOverlap) as caught:
        services.create_opening_rule(
            actor=admin,
            agenda_id=scene["agenda"].pk,
            weekday=0,
            opens_time=time(11),
            closes_time=time(13),
        )

    assert "08:00–12:00" in caught.value.render()


def test_a_rule_for_all_motives_overlaps_a_rule_for_one(
    frozen_now, empty_agenda, consultation, admin
):
    OpeningRuleFactory(
        agenda=empty_agenda, weekday=3, opens_time=time(8), closes_time=time(12)
    ).motives.set([consultation])
    before = snapshot()

    with pytest.raises(OpeningRulesOverlap):
        services.create_opening_rule(
            actor=admin,
            agenda_id=empty_agenda.pk,
            weekday=3,
            opens_time=time(10),
            closes_time=time(14),
        )

    assert snapshot() == before


def test_a_motive_of_another_agenda_cannot_be_named_in_a_rule(frozen_now, scene, admin):
    foreign = MotiveFactory()
    before = snapshot()

    with pytest.raises(MotiveNotFound):
        services.create_opening_rule(
            actor=admin,
            agenda_id=scene["agenda"].pk,
            weekday=5,
            opens_time=time(8),
            closes_time=time(12),
            motive_ids=[foreign.pk],
        )

    assert snapshot() == before


def test_updating_a_rule_onto_another_is_refused_and_changes_nothing(
    frozen_now, scene, admin
):
    other = OpeningRuleFactory(
        agenda=scene["agenda"], weekday=1, opens_time=time(8), closes_time=time(12)
    )
    before = snapshot()

    with pytest.raises(OpeningRulesOverlap):
        services.update_opening_rule(
            actor=admin,
            rule_id=other.pk,
            weekday=0,
            opens_time=time(10),
            closes_time=time(14),
        )

    assert snapshot() == before


def test_replacing_the_rules_is_all_or_nothing(frozen_now, scene, admin):
    before = snapshot()

    with pytest.raises(OpeningRulesOverlap):
        services.replace_opening_rules(
            actor=admin,
            agenda_id=scene["agenda"].pk,
            rules=[
                RuleDraft(weekday=2, opens=time(8), closes=time(12)),
                RuleDraft(weekday=2, opens=time(11), closes=time(15)),
            ],
        )

    assert snapshot() == before


def test_replacing_the_rules_drops_the_old_ones(frozen_now, scene, admin):
    saved = services.replace_opening_rules(
        actor=admin,
        agenda_id=scene["agenda"].pk,
        rules=[
            RuleDraft(weekday=2, opens=time(8), closes=time(12)),
            RuleDraft(
                weekday=2,
                opens=time(14),
                closes=time(18),
                motive_ids={scene["motive"].pk},
            ),
        ],
    )

    rules = list(OpeningRule.objects.filter(agenda=scene["agenda"]).order_by("pk"))
    assert rules == saved
    assert [(r.weekday, r.opens_time, r.closes_time) for r in rules] == [
        (2, time(8), time(12)),
        (2, time(14), time(18)),
    ]
    assert list(rules[1].motives.values_list("pk", flat=True)) == [scene["motive"].pk]


def test_deleting_a_rule_keeps_the_others(frozen_now, scene, admin):
    kept = OpeningRuleFactory(agenda=scene["agenda"], weekday=4)

    services.delete_opening_rule(actor=admin, rule_id=scene["rule"].pk)

    assert list(OpeningRule.objects.filter(agenda=scene["agenda"])) == [kept]


# -- visit motives ---------------------------------------------------------


def test_a_motive_is_created_with_its_settings(frozen_now, empty_agenda, admin):
    motive = services.create_motive(
        actor=admin,
        agenda_id=empty_agenda.pk,
        name="  Téléconsultation  ",
        duration_minutes=15,
        channel="video",
        open_to_new_patients=False,
        min_notice_minutes=120,
        horizon_days=30,
        cancellation_cutoff_hours=48,
        colour="#aa33cc",
        price=Decimal("30.50"),
        booking_questions=[
            {"label": "Avez-vous  une ordonnance ?", "required": True},
            {"label": "Allergies"},
        ],
    )

    motive.refresh_from_db()
    assert motive.name == "Téléconsultation"
    assert (motive.duration_minutes, motive.channel, motive.open_to_new_patients) == (
        15,
        "video",
        False,
    )
    assert (
        motive.min_notice_minutes,
        motive.horizon_days,
        motive.cancellation_cutoff_hours,
    ) == (120, 30, 48)
    assert motive.colour == "#AA33CC"
    assert (motive.price_minor, motive.currency, motive.price) == (
        3050,
        "EUR",
        Decimal("30.50"),
    )
    assert motive.booking_questions == [
        {"label": "Avez-vous une ordonnance ?", "required": True},
        {"label": "Allergies", "required": False},
    ]


def test_a_motive_without_price_shows_none(frozen_now, empty_agenda, admin):
    motive = services.create_motive(
        actor=admin, agenda_id=empty_agenda.pk, name="Suivi", price=None
    )

    assert (motive.price_minor, motive.price) == (None, None)


def test_updating_a_motive_changes_only_the_fields_given(
    frozen_now, empty_agenda, admin
):
    motive = services.create_motive(
        actor=admin,
        agenda_id=empty_agenda.pk,
        name="Suivi",
        price="25",
        booking_questions=[{"label": "Motif", "required": False}],
    )

    services.update_motive(
        actor=admin, motive_id=motive.pk, duration_minutes=40, price=None
    )

    motive.refresh_from_db()
    assert (motive.name, motive.duration_minutes, motive.price_minor) == (
        "Suivi",
        40,
        None,
    )
    assert motive.booking_questions == [{"label": "Motif", "required": False}]


def test_deactivating_and_reactivating_a_motive_is_idempotent(frozen_now, scene, admin):
    services.deactivate_motive(actor=admin, motive_id=scene["motive"].pk)
    services.deactivate_motive(actor=admin, motive_id=scene["motive"].pk)
    assert VisitMotive.objects.get(pk=scene["motive"].pk).is_active is False

    services.reactivate_motive(actor=admin, motive_id=scene["motive"].pk)
    assert VisitMotive.objects.get(pk=scene["motive"].pk).is_active is True


def _save_motive(how, actor, scene, changes):
    if how == "create":
        return services.create_motive(
            actor=actor, agenda_id=scene["agenda"].pk, **{"name": "Suivi", **changes}
        )
    return services.update_motive(actor=actor, motive_id=scene["motive"].pk, **changes)


QUESTION = {"label": "Allergies", "required": False}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": ""}, MotiveNameInvalid),
        ({"name": "x" * 121}, MotiveNameInvalid),
        ({"duration_minutes": 0}, MotiveDurationInvalid),
        ({"duration_minutes": 3}, MotiveDurationInvalid),
        ({"duration_minutes": 22}, MotiveDurationInvalid),
        ({"duration_minutes": 485}, MotiveDurationInvalid),
        ({"duration_minutes": "20"}, MotiveDurationInvalid),
        ({"duration_minutes": True}, MotiveDurationInvalid),
        ({"channel": "fax"}, ChannelInvalid),
        ({"min_notice_minutes": -1}, NoticeInvalid),
        ({"min_notice_minutes": 43_201}, NoticeInvalid),
        ({"horizon_days": 0}, HorizonInvalid),
        ({"horizon_days": 731}, HorizonInvalid),
        ({"cancellation_cutoff_hours": -2}, CancellationCutoffInvalid),
        ({"colour": "red"}, ColourInvalid),
        ({"colour": "#12345G"}, ColourInvalid),
        ({"price": 10.5}, PriceInvalid),
        ({"price": Decimal("-1")}, PriceInvalid),
        ({"price": Decimal("10.505")}, PriceInvalid),
        ({"price": Decimal("100000.01")}, PriceInvalid),
        ({"price": "dix euros"}, PriceInvalid),
        ({"price": Decimal("NaN")}, PriceInvalid),
        ({"currency": "USD"}, CurrencyInvalid),
        (
            {
                "booking_questions": [
                    {"label": f"Question {n}", "required": False} for n in range(11)
                ]
            },
            BookingQuestionsInvalid,
        ),
        ({"booking_questions": [{"label": "  "}]}, BookingQuestionsInvalid),
        ({"booking_questions": [QUESTION, QUESTION]}, BookingQuestionsInvalid),
        (
            {"booking_questions": [{"label": "Allergies", "required": "yes"}]},
            BookingQuestionsInvalid,
        ),
        (
            {"booking_questions": [{"label": "Allergies", "answer": "x"}]},
            BookingQuestionsInvalid,
        ),
        ({"booking_questions": "Allergies"}, BookingQuestionsInvalid),
        (
            {"booking_questions": [{"label": "x" * 201}]},
            BookingQuestionsInvalid,
        ),
    ],
)
@pytest.mark.parametrize("how", ["create", "update"])
def test_a_bad_motive_is_refused_and_changes_nothing(
    frozen_now, scene, admin, changes, error, how
):
    before = snapshot()

    with pytest.raises(error):
        _save_motive(how, admin, scene, changes)

    assert snapshot() == before


# -- absences --------------------------------------------------------------


def test_a_secretary_adds_an_absence_over_appointments_and_gets_them_back(
    frozen_now, scene, secretary, book
):
    motive = scene["motive"]
    day = date(2026, 3, 9)  # a Monday
    inside = book(motive, _paris(day, 9))
    straddling = book(motive, _paris(day, 11, 50))
    outside = book(motive, _paris(day, 12, 30))
    cancelled = book(motive, _paris(day, 10))
    cancelled.status = Appointment.Status.CANCELLED
    cancelled.save(update_fields=["status"])
    events = AuditEvent.objects.count()

    outcome = services.create_absence(
        actor=secretary,
        agenda_id=scene["agenda"].pk,
        starts_at=_paris(day, 8),
        ends_at=_paris(day, 12),
        label=" Formation ",
    )

    absence = Absence.objects.get(pk=outcome.absence.pk)
    assert (absence.starts_at, absence.ends_at, absence.label) == (
        _paris(day, 8),
        _paris(day, 12),
        "Formation",
    )
    assert outcome.affected_appointments == [inside, straddling]
    assert outside not in outcome.affected_appointments
    new_events = AuditEvent.objects.order_by("pk")[events:]
    assert [(e.action, e.actor_id, e.purpose) for e in new_events] == [
        ("read", secretary.pk, "administration")
    ] * 2


def test_an_absence_over_nothing_returns_no_appointment(frozen_now, scene, admin):
    events = AuditEvent.objects.count()

    outcome = services.create_absence(
        actor=admin,
        agenda_id=scene["agenda"].pk,
        starts_at=_paris(date(2026, 5, 4), 8),
        ends_at=_paris(date(2026, 5, 8), 19),
    )

    assert outcome.affected_appointments == []
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "label", "error"),
    [
        (_paris(TUESDAY, 12), _paris(TUESDAY, 8), "", AbsencePeriodInvalid),
        (_paris(TUESDAY, 8), _paris(TUESDAY, 8), "", AbsencePeriodInvalid),
        (
            datetime(2026, 3, 3, 8),  # noqa: DTZ001 - the point: a naive datetime
            datetime(2026, 3, 3, 12),  # noqa: DTZ001
            "",
            AbsencePeriodInvalid,
        ),
        (_paris(TUESDAY, 8), _paris(TUESDAY, 12), "x" * 121, AbsenceLabelInvalid),
    ],
)
def test_a_bad_absence_is_refused_and_changes_nothing(
    frozen_now, scene, admin, starts_at, ends_at, label, error
):
    before = snapshot()

    with pytest.raises(error):
        services.create_absence(
            actor=admin,
            agenda_id=scene["agenda"].pk,
            starts_at=starts_at,
            ends_at=ends_at,
            label=label,
        )

    assert snapshot() == before


def test_deleting_an_absence_frees_its_time(frozen_now, scene, secretary):
    services.delete_absence(actor=secretary, absence_id=scene["absence"].pk)

    assert not Absence.objects.filter(pk=scene["absence"].pk).exists()


# -- what depends on the settings is kept true -------------------------------


def _first_slot(motive):
    row = NextAvailability.objects.filter(motive=motive).first()
    return None if row is None else row.first_slot_at


def test_every_change_refreshes_the_next_slots_and_the_search_entry(
    frozen_now, empty_agenda, admin, secretary
):
    # given an agenda nobody can book yet
    assert not SearchEntry.objects.filter(agenda=empty_agenda).exists()

    # when a video motive and Tuesday hours are added
    motive = services.create_motive(
        actor=admin,
        agenda_id=empty_agenda.pk,
        name="Vidéo",
        channel="video",
        min_notice_minutes=0,
    )
    entry = SearchEntry.objects.get(agenda=empty_agenda)
    assert (entry.has_video, entry.accepts_new_patients, entry.next_slot_at) == (
        True,
        True,
        None,
    )
    services.create_opening_rule(
        actor=admin,
        agenda_id=empty_agenda.pk,
        weekday=1,
        opens_time=time(8),
        closes_time=time(12),
    )

    # then the first Tuesday slot is indexed and searchable
    tuesday_8 = _paris(TUESDAY, 8)
    assert _first_slot(motive) == tuesday_8
    entry.refresh_from_db()
    assert (entry.next_slot_at, entry.next_video_slot_at) == (tuesday_8, tuesday_8)

    # when a secretary blocks that morning
    outcome = services.create_absence(
        actor=secretary,
        agenda_id=empty_agenda.pk,
        starts_at=_paris(TUESDAY, 8),
        ends_at=_paris(TUESDAY, 12),
    )
    next_tuesday_8 = _paris(TUESDAY + timedelta(days=7), 8)
    assert _first_slot(motive) == next_tuesday_8
    entry.refresh_from_db()
    assert entry.next_slot_at == next_tuesday_8

    # when the absence is removed, the slot comes back
    services.delete_absence(actor=secretary, absence_id=outcome.absence.pk)
    assert _first_slot(motive) == tuesday_8

    # when the motive closes to new patients, then is deactivated
    services.update_motive(actor=admin, motive_id=motive.pk, open_to_new_patients=False)
    entry.refresh_from_db()
    assert (entry.accepts_new_patients, entry.next_new_slot_at) == (False, None)
    services.deactivate_motive(actor=admin, motive_id=motive.pk)
    entry.refresh_from_db()
    assert (entry.has_video, entry.next_slot_at) == (False, None)
    assert not NextAvailability.objects.filter(motive=motive).exists()

    # when the rule is deleted after reactivation, nothing is bookable
    services.reactivate_motive(actor=admin, motive_id=motive.pk)
    assert _first_slot(motive) == tuesday_8
    rule = OpeningRule.objects.get(agenda=empty_agenda)
    services.delete_opening_rule(actor=admin, rule_id=rule.pk)
    assert _first_slot(motive) is None


def test_the_settings_page_reads_the_whole_agenda(frozen_now, scene, secretary):
    past = AbsenceFactory(
        agenda=scene["agenda"],
        starts_at=NOW - timedelta(days=3),
        ends_at=NOW - timedelta(days=2),
    )

    settings = get_agenda_settings(
        actor=secretary, agenda_id=scene["agenda"].pk, now=NOW
    )

    assert settings.agenda == scene["agenda"]
    assert settings.motives == [scene["motive"]]
    assert settings.rules == [scene["rule"]]
    assert settings.absences == [scene["absence"]]
    assert past not in settings.absences
    assert settings.feeds == [scene["feed"]]


def test_an_inactive_membership_opens_nothing(frozen_now, scene, make_staff):
    actor = make_staff(scene["agenda"].practice, "practice_admin")
    actor.memberships.update(is_active=False)
    before = snapshot()

    with pytest.raises(AgendaSettingsNotFound):
        services.create_motive(actor=actor, agenda_id=scene["agenda"].pk, name="Suivi")

    assert snapshot() == before


def test_a_secretary_who_is_also_a_practitioner_may_change_the_settings(
    frozen_now, scene, secretary
):
    secretary.memberships.create(practice=scene["agenda"].practice, role="practitioner")

    motive = services.create_motive(
        actor=secretary, agenda_id=scene["agenda"].pk, name="Suivi"
    )

    assert motive.agenda_id == scene["agenda"].pk
