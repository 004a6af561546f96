"""Settings changed at the same moment by two people: the agenda's lock keeps the rules true.

Runs on SQLite (IMMEDIATE transactions serialise writers) and on PostgreSQL
(the agenda's row lock serialises the overlap check and the insert).
"""

import threading
from datetime import date, time

import pytest
from django.db import connections

from carnet.scheduling.errors import OpeningRulesOverlap
from carnet.scheduling.holidays import apply_public_holidays
from carnet.scheduling.models import Absence, OpeningRule
from carnet.scheduling.services import create_opening_rule

pytestmark = pytest.mark.django_db(transaction=True)
CLIENTS = 6


def _race(target, arguments):
    """Run target(*args) for each args in threads released by one barrier."""
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def run(index, args):
        try:
            barrier.wait()
            outcomes[index] = target(*args)
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, a)) for i, a in enumerate(arguments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_of_overlapping_rules_saved_at_once_exactly_one_is_kept(empty_agenda, admin):
    def create(opens_hour):
        return create_opening_rule(
            actor=admin,
            agenda_id=empty_agenda.pk,
            weekday=2,
            opens_time=time(opens_hour),
            closes_time=time(opens_hour + 3),
        )

    outcomes = _race(create, [(8 + n % 2,) for n in range(CLIENTS)])

    kept = [o for o in outcomes if isinstance(o, OpeningRule)]
    refused = [o for o in outcomes if isinstance(o, OpeningRulesOverlap)]
    assert (len(kept), len(refused)) == (1, CLIENTS - 1), outcomes
    assert list(OpeningRule.objects.filter(agenda=empty_agenda)) == kept


def test_holidays_applied_at_once_are_added_once(empty_agenda, admin):
    outcomes = _race(
        lambda: apply_public_holidays(
            actor=admin, agenda_id=empty_agenda.pk, year=2026
        ),
        [()] * CLIENTS,
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(len(o.absences) for o in outcomes) == 11
    days = list(
        Absence.objects.filter(agenda=empty_agenda).values_list("holiday_on", flat=True)
    )
    assert len(days) == len(set(days)) == 11
    assert date(2026, 7, 14) in days
