from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from carnet.vault import crypto
from carnet.vault.models import BLIND_INDEX_SUBJECT, DataKey
from carnet.vault.services import seal

pytestmark = pytest.mark.django_db

CONTEXT = "booking_appointment.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_vault_init_creates_the_key_file_and_blind_index_key_once(key_file):
    first = run("vault_init")
    second = run("vault_init")

    assert key_file.exists()
    assert "(created)" in first
    assert "blind-index key: created" in first
    assert "(created)" not in second
    assert "blind-index key: present" in second
    assert DataKey.objects.filter(subject=BLIND_INDEX_SUBJECT).count() == 1


def test_vault_status_reports_backend_keks_and_counts(local_backend):
    assert "no key file" in run("vault_status")
    seal(subject="patient:a", context=CONTEXT, plaintext=b"x")
    seal(subject="patient:b", context=CONTEXT, plaintext=b"x")
    kek_id = local_backend.current_kek_id()

    status = run("vault_status")

    assert "backend: local" in status
    assert f"current KEK: {kek_id}" in status
    assert f"  {kek_id}: 2" in status
    assert "data keys: 2 current, 0 retired, 0 destroyed" in status


def test_vault_rotate_kek_then_destroy_the_old_kek(local_backend):
    seal(subject="patient:a", context=CONTEXT, plaintext=b"x")
    old = local_backend.current_kek_id()

    out = run("vault_rotate_kek")
    destroyed = run("vault_destroy_kek", old)

    assert "1 data keys rewrapped" in out
    assert f"destroyed KEK {old}" in destroyed
    with pytest.raises(CommandError, match="current KEK"):
        run("vault_destroy_kek", local_backend.current_kek_id())


def test_vault_rotate_data_key_for_one_subject_or_all():
    token = seal(subject="patient:a", context=CONTEXT, plaintext=b"x")
    seal(subject="patient:b", context=CONTEXT, plaintext=b"x")

    one = run("vault_rotate_data_key", "patient:a")
    every = run("vault_rotate_data_key", "--all")

    assert one.startswith("1 data keys rotated")
    assert every.startswith("2 data keys rotated")
    assert DataKey.objects.get(pk=crypto.read_key_id(token)).destroyed_at is not None
    with pytest.raises(CommandError, match="one SUBJECT or --all"):
        run("vault_rotate_data_key")
    with pytest.raises(CommandError, match="belongs to the vault"):
        run("vault_rotate_data_key", BLIND_INDEX_SUBJECT)
