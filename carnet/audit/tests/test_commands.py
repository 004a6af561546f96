from io import StringIO

import pytest
from django.core.management import call_command

from carnet.audit.tests.factories import record

pytestmark = pytest.mark.django_db


def _verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("audit_verify", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_intact_trail_prints_ok_with_the_count():
    for number in range(3):
        record(resource=f"appointment:{number}")

    assert _verify() == ("OK: 3 events\n", "")


def test_empty_trail_is_ok():
    assert _verify() == ("OK: 0 events\n", "")


def test_tampered_trail_names_the_event_and_exits_with_status_1(tamper):
    events = [record(resource=f"appointment:{number}") for number in range(3)]
    tamper(events[1].pk, "purpose", "support")
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as caught:
        call_command("audit_verify", stdout=out, stderr=err)

    assert caught.value.code == 1
    assert out.getvalue() == ""
    assert err.getvalue() == (
        f"BROKEN at event #{events[1].pk}: hash mismatch (the event was altered)\n"
    )


def test_deleted_event_is_reported_as_a_broken_link(delete_row):
    events = [record(resource=f"appointment:{number}") for number in range(3)]
    delete_row(events[1].pk)
    err = StringIO()

    with pytest.raises(SystemExit) as caught:
        call_command("audit_verify", stdout=StringIO(), stderr=err)

    assert caught.value.code == 1
    assert err.getvalue() == (
        f"BROKEN at event #{events[2].pk}: "
        "broken link (the event before it is missing or was rewritten)\n"
    )
