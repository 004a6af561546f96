"""Canary: health data written through the application is nowhere in clear at rest.

Unique values go in through the real services and API; then the SQLite file
(with its WAL and shared-memory files) or a pg_dump of PostgreSQL is searched
for them in every encoding a careless write could leave: none may be found.
"""

import base64
import binascii
import shutil
import subprocess
import urllib.parse
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from carnet.accounts.selectors import find_patients_by_contact
from carnet.accounts.services import (
    erase_patient_data,
    mint_api_token,
)
from carnet.booking.models import Appointment
from carnet.vault.errors import KeyDestroyed

pytestmark = pytest.mark.django_db(transaction=True)

CANARIES = {
    "reason": "douleur thoracique canari-7f3a9c",
    "phone": "+33 6 71 93 58 24",
    "email": "canari.7f3a9c@example.test",
    "address": "17 impasse du Canari-7f3a9c, 69003 Lyon",
    "nhi": "1 85 05 78 006 084 36",
    "birth": "1937-05-21",
}


def _encodings(value: str) -> list[bytes]:
    raw = value.encode()
    forms = [
        raw,
        value.encode("utf-16-le"),
        value.encode("utf-16-be"),
        binascii.hexlify(raw),
        binascii.hexlify(raw).upper(),
        urllib.parse.quote(value).encode(),
        urllib.parse.quote_plus(value).encode(),
    ]
    # base64 at the three possible alignments inside a longer encoded blob
    for shift in range(3):
        chunk = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0 :][:-4]
        forms.append(chunk)
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 9:
        forms.append(digits.encode())
    return forms


def _dump() -> bytes:
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        return b"".join(
            Path(f"{name}{suffix}").read_bytes()
            for suffix in ("", "-wal", "-shm")
            if Path(f"{name}{suffix}").exists()
        )
    settings = connection.settings_dict
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    return subprocess.run(  # noqa: S603 - fixed program, our own test database
        [
            pg_dump,
            "--no-owner",
            "-d",
            settings["NAME"],
            "-h",
            settings["HOST"],
            "-p",
            str(settings["PORT"]),
            "-U",
            settings["USER"],
        ],
        env={"PGPASSWORD": settings["PASSWORD"] or ""},
        check=True,
        capture_output=True,
    ).stdout


def _book_through_the_api(frozen_now, motive) -> int:
    from carnet.accounts.services import (
        create_patient_account,
    )

    user = create_patient_account(
        email="ines.login@example.test",  # the login e-mail is in clear by design
        contact_email=CANARIES["email"],
        password="a-long-password-1",
        first_name="Ines",
        last_name="Canari",
        birth_date=date.fromisoformat(CANARIES["birth"]),
        phone=CANARIES["phone"],
        address=CANARIES["address"],
        national_health_id=CANARIES["nhi"],
    )
    _row, token = mint_api_token(user=user)
    response = Client(headers={"authorization": f"Bearer {token}"}).post(
        "/api/v1/appointments",
        {
            "agenda": motive.agenda_id,
            "motive": motive.pk,
            "start": "2026-03-02T09:00:00+01:00",
            "reason": CANARIES["reason"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_no_health_value_is_stored_in_clear(frozen_now, motive):
    appointment_id = _book_through_the_api(frozen_now, motive)
    # The application still reads them back...
    appointment = Appointment.objects.select_related("patient").get(pk=appointment_id)
    assert appointment.reason == CANARIES["reason"]
    assert appointment.patient.birth_date == date.fromisoformat(CANARIES["birth"])
    assert appointment.patient.address == CANARIES["address"]
    # ... and finds the patient by exact phone, e-mail or identifier.
    assert list(find_patients_by_contact(phone="+33671935824")) == [appointment.patient]
    assert list(find_patients_by_contact(email="CANARI.7f3a9c@example.test")) == [
        appointment.patient
    ]
    assert list(find_patients_by_contact(national_health_id="185057800608436")) == [
        appointment.patient
    ]

    dump = _dump()

    assert len(dump) > 10_000
    found = {
        name: [f for f in _encodings(value) if f in dump]
        for name, value in CANARIES.items()
    }
    assert found == {name: [] for name in CANARIES}
    # The search would have found a clear value: the patient's last name is stored in clear.
    assert b"Canari" in dump


def test_erasing_a_patient_makes_every_sealed_value_unreadable(frozen_now, motive):
    appointment_id = _book_through_the_api(frozen_now, motive)
    patient = Appointment.objects.get(pk=appointment_id).patient

    erase_patient_data(patient=patient)

    fresh = Appointment.objects.select_related("patient").get(pk=appointment_id)
    with pytest.raises(KeyDestroyed):
        _ = fresh.reason
    with pytest.raises(KeyDestroyed):
        _ = fresh.patient.birth_date
    assert list(find_patients_by_contact(phone=CANARIES["phone"])) == []
