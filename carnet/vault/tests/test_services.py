import threading

import pytest
from django.db import connection, transaction

from carnet.vault import crypto
from carnet.vault.errors import (
    KekInUse,
    KekMissing,
    KeyDestroyed,
    ProtectedSubject,
    TokenInvalid,
)
from carnet.vault.keycache import get_key_cache
from carnet.vault.models import BLIND_INDEX_SUBJECT, DataKey
from carnet.vault.services import (
    blind_index,
    clear_key_cache,
    destroy_kek,
    destroy_subject,
    initialise_vault,
    provision_data_key,
    rotate_all_data_keys,
    rotate_data_key,
    rotate_kek,
    seal,
    unseal,
)

pytestmark = pytest.mark.django_db

SUBJECT = "patient:6f1e5c1a-5b8e-4a57-9d0e-3f6c2a1b9e01"
OTHER = "patient:6f1e5c1a-5b8e-4a57-9d0e-3f6c2a1b9e02"
CONTEXT = "booking_appointment.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21"


def test_a_sealed_value_unseals_with_its_context():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"migraine")

    assert unseal(token=token, context=CONTEXT) == b"migraine"
    assert b"migraine" not in token


def test_the_first_seal_creates_the_subjects_data_key_stored_wrapped_only():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")

    key = DataKey.objects.get(subject=SUBJECT)
    assert crypto.read_key_id(token) == key.pk
    assert (key.version, key.retired_at, key.destroyed_at) == (1, None, None)
    assert key.kek_id.startswith("local-")
    assert len(bytes(key.wrapped_key)) == 40


def test_one_subject_has_one_key_and_subjects_do_not_share_keys():
    a1 = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"1")
    a2 = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"2")
    b1 = seal(subject=OTHER, context=CONTEXT, plaintext=b"3")

    assert crypto.read_key_id(a1) == crypto.read_key_id(a2)
    assert crypto.read_key_id(a1) != crypto.read_key_id(b1)
    assert DataKey.objects.count() == 2


def test_unseal_works_with_a_cold_cache():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"cold")
    clear_key_cache()

    assert unseal(token=token, context=CONTEXT) == b"cold"
    assert len(get_key_cache()) == 1


def test_a_token_in_another_context_or_tampered_is_refused():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    tampered = token[:-1] + bytes([token[-1] ^ 1])

    with pytest.raises(TokenInvalid):
        unseal(token=token, context=CONTEXT.replace("reason", "note"))
    with pytest.raises(TokenInvalid):
        unseal(token=tampered, context=CONTEXT)


def test_a_token_naming_an_unknown_key_is_refused():
    token = crypto.token_header(12345) + bytes(40)

    with pytest.raises(TokenInvalid, match="no known data key"):
        unseal(token=token, context=CONTEXT)


def test_destroying_a_subject_erases_its_key_and_every_value():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"secret")
    kept = seal(subject=OTHER, context=CONTEXT, plaintext=b"kept")

    destroy_subject(subject=SUBJECT)

    key = DataKey.objects.get(subject=SUBJECT)
    assert key.wrapped_key is None
    assert key.destroyed_at is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wrapped_key FROM vault_datakey WHERE subject = %s", [SUBJECT]
        )
        assert cursor.fetchall() == [(None,)]
    with pytest.raises(KeyDestroyed):
        unseal(token=token, context=CONTEXT)
    assert unseal(token=kept, context=CONTEXT) == b"kept"


def test_a_shredded_value_stays_unreadable_in_a_process_that_had_its_key_cached():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"secret")
    unseal(token=token, context=CONTEXT)

    destroy_subject(subject=SUBJECT)
    clear_key_cache()  # another process: its cache expires (VAULT_KEY_CACHE_SECONDS)

    with pytest.raises(KeyDestroyed):
        unseal(token=token, context=CONTEXT)


def test_nothing_is_sealed_again_for_a_shredded_subject():
    seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    destroy_subject(subject=SUBJECT)

    with pytest.raises(KeyDestroyed):
        seal(subject=SUBJECT, context=CONTEXT, plaintext=b"y")
    assert DataKey.objects.filter(subject=SUBJECT).count() == 1


def test_destroying_an_unknown_subject_leaves_a_tombstone_and_is_idempotent():
    destroy_subject(subject=SUBJECT)
    destroy_subject(subject=SUBJECT)

    assert (
        DataKey.objects.filter(subject=SUBJECT, destroyed_at__isnull=False).count() == 1
    )
    with pytest.raises(KeyDestroyed):
        seal(subject=SUBJECT, context=CONTEXT, plaintext=b"y")


def test_the_vaults_own_keys_cannot_be_shredded_or_rotated():
    blind_index(kind="email", value="a@example.test")

    with pytest.raises(ProtectedSubject):
        destroy_subject(subject=BLIND_INDEX_SUBJECT)
    with pytest.raises(ProtectedSubject):
        rotate_data_key(subject=BLIND_INDEX_SUBJECT)
    assert DataKey.objects.get(subject=BLIND_INDEX_SUBJECT).wrapped_key is not None


def test_provisioning_returns_the_current_key_creating_it_once():
    first = provision_data_key(subject=SUBJECT)

    assert provision_data_key(subject=SUBJECT) == first
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    assert crypto.read_key_id(token) == first.pk


@pytest.mark.django_db(transaction=True)
def test_racing_first_seals_agree_on_one_key():
    # Given: a first transaction has created the subject's key but not committed.
    created = threading.Event()
    tokens: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                tokens["first"] = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"1")
                created.set()
                threading.Event().wait(0.3)  # hold the transaction open
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            created.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            created.wait(5)
            with transaction.atomic():
                tokens["second"] = seal(
                    subject=SUBJECT, context=CONTEXT, plaintext=b"2"
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # When: a second transaction seals for the same subject meanwhile.
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Then: both used the one key that exists.
    assert errors == []
    assert DataKey.objects.filter(subject=SUBJECT).count() == 1
    key_id = DataKey.objects.get(subject=SUBJECT).pk
    assert {crypto.read_key_id(t) for t in tokens.values()} == {key_id}
    assert unseal(token=tokens["second"], context=CONTEXT) == b"2"


def test_a_key_created_in_a_rolled_back_transaction_leaves_no_trace():
    def seal_then_fail() -> None:
        with transaction.atomic():
            seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        seal_then_fail()

    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"y")
    assert DataKey.objects.filter(subject=SUBJECT).count() == 1
    clear_key_cache()
    assert unseal(token=token, context=CONTEXT) == b"y"


# -- KEK rotation -------------------------------------------------------------------


def test_rotating_the_kek_rewraps_every_live_key_and_values_still_open(
    local_backend, key_file
):
    tokens = {
        subject: seal(subject=subject, context=CONTEXT, plaintext=subject.encode())
        for subject in (SUBJECT, OTHER)
    }
    seal(subject="patient:shredded", context=CONTEXT, plaintext=b"x")
    destroy_subject(subject="patient:shredded")
    old_kek = local_backend.current_kek_id()

    count = rotate_kek()

    new_kek = local_backend.current_kek_id()
    assert count == 2
    assert new_kek != old_kek
    assert set(
        DataKey.objects.filter(destroyed_at__isnull=True).values_list(
            "kek_id", flat=True
        )
    ) == {new_kek}
    # The old KEK is no longer needed: remove it from the key file.
    local_backend.destroy_kek(old_kek)
    clear_key_cache()
    for subject, token in tokens.items():
        assert unseal(token=token, context=CONTEXT) == subject.encode()
    assert unseal(
        token=seal(subject=SUBJECT, context=CONTEXT, plaintext=b"new"), context=CONTEXT
    ) == (b"new")


def test_rotating_the_kek_changes_no_token():
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    key_id = crypto.read_key_id(token)

    rotate_kek()

    assert DataKey.objects.get(subject=SUBJECT).pk == key_id


def test_a_kek_that_wraps_live_keys_or_is_current_cannot_be_destroyed(local_backend):
    seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    old_kek = local_backend.current_kek_id()
    new_kek = local_backend.create_kek()

    with pytest.raises(KekInUse, match="1 live data keys"):
        destroy_kek(kek_id=old_kek)
    with pytest.raises(KekInUse, match="current"):
        destroy_kek(kek_id=new_kek)
    rotate_kek()
    destroy_kek(kek_id=old_kek)
    assert old_kek not in local_backend.kek_ids()


def test_keys_whose_kek_is_destroyed_cannot_be_unwrapped(local_backend):
    token = seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")
    old_kek = local_backend.current_kek_id()
    local_backend.create_kek()
    local_backend.destroy_kek(
        old_kek
    )  # behind the vault's back, like a lost backup KEK
    clear_key_cache()

    with pytest.raises(KekMissing):
        unseal(token=token, context=CONTEXT)


# -- blind indexes ------------------------------------------------------------------


def test_a_blind_index_is_stable_for_equal_normalised_values():
    a = blind_index(kind="email", value="Jeanne.Dupont@Example.fr")
    b = blind_index(kind="email", value="  jeanne.dupont@example.FR ")

    assert a == b
    assert len(a) == 32
    assert int(a, 16) >= 0  # hexadecimal


def test_a_blind_index_reveals_nothing_of_the_value():
    index = blind_index(kind="phone", value="+33 6 12 34 56 78")

    for fragment in ("33612345678", "612345678", "12345678", "5678"):
        assert fragment not in index


def test_kinds_use_different_keys():
    assert blind_index(kind="email", value="123456") != blind_index(
        kind="nhi", value="123456"
    )


def test_a_different_blind_index_key_gives_a_different_index():
    before = blind_index(kind="nhi", value="185057800608436")
    DataKey.objects.filter(subject=BLIND_INDEX_SUBJECT).delete()
    clear_key_cache()

    after = blind_index(kind="nhi", value="185057800608436")

    assert after != before
    assert blind_index(kind="nhi", value="1 85 05 78 006 084 36") == after


def test_the_blind_index_key_is_not_a_data_key_and_survives_kek_rotation():
    before = blind_index(kind="email", value="a@example.test")
    seal(subject=SUBJECT, context=CONTEXT, plaintext=b"x")

    rotate_kek()
    clear_key_cache()

    assert blind_index(kind="email", value="a@example.test") == before
    assert DataKey.objects.filter(subject=BLIND_INDEX_SUBJECT).count() == 1


def test_initialising_the_vault_is_idempotent(key_file):
    first = initialise_vault()
    second = initialise_vault()

    assert (first.backend, first.kek_created, first.blind_index_key_created) == (
        "local",
        True,
        True,
    )
    assert (second.kek_id, second.kek_created, second.blind_index_key_created) == (
        first.kek_id,
        False,
        False,
    )


# -- data-key rotation (values in a real table: SealedNote) --------------------------


def test_rotating_a_data_key_re_encrypts_values_under_the_new_key(note_model):
    notes = [
        note_model.objects.create(
            owner="ann", reason=f"reason {i}", born_on="1980-01-02"
        )
        for i in range(3)
    ]
    other = note_model.objects.create(owner="bob", reason="bob's")
    old_key = DataKey.objects.get(subject="patient:ann")
    bob_token = other.reason_sealed

    result = rotate_data_key(subject="patient:ann")

    new_key = DataKey.objects.get(subject="patient:ann", retired_at__isnull=True)
    old_key.refresh_from_db()
    assert (result.keys_rotated, result.values_resealed, result.values_unreadable) == (
        1,
        6,
        0,
    )
    assert new_key.version == 2
    assert old_key.destroyed_at is not None
    assert old_key.wrapped_key is None
    clear_key_cache()
    for i, note in enumerate(notes):
        stored = note_model.objects.get(pk=note.pk)
        assert crypto.read_key_id(stored.reason_sealed) == new_key.pk
        assert crypto.read_key_id(stored.born_on_sealed) == new_key.pk
        assert stored.reason == f"reason {i}"
    assert note_model.objects.get(pk=other.pk).reason_sealed == bob_token


def test_a_rotation_stopped_half_way_is_completed_by_the_next(note_model):
    note = note_model.objects.create(owner="ann", reason="first")
    rotate_data_key(subject="patient:ann")
    # Given: a rotation that retired the key but stopped before re-encrypting.
    stuck = DataKey.objects.get(subject="patient:ann", retired_at__isnull=True)
    note_model.objects.create(owner="ann", reason="second")
    DataKey.objects.filter(pk=stuck.pk).update(retired_at=stuck.created_at)
    DataKey.objects.create(
        subject="patient:ann",
        version=3,
        kek_id=stuck.kek_id,
        wrapped_key=stuck.wrapped_key,
    )

    result = rotate_data_key(subject="patient:ann")

    current = DataKey.objects.get(subject="patient:ann", retired_at__isnull=True)
    assert result.values_resealed == 2
    assert (
        DataKey.objects.filter(subject="patient:ann", destroyed_at__isnull=True).get()
        == current
    )
    assert [
        n.reason for n in note_model.objects.filter(owner="ann").order_by("pk")
    ] == [
        "first",
        "second",
    ]
    assert note_model.objects.get(pk=note.pk).reason == "first"


def test_rotating_every_data_key_reads_each_value_once(note_model):
    for owner in ("ann", "bob", "cy"):
        note_model.objects.create(owner=owner, reason=f"{owner}'s reason")
    blind_index(kind="email", value="a@example.test")
    system_key = DataKey.objects.get(subject=BLIND_INDEX_SUBJECT)

    result = rotate_all_data_keys()

    assert (result.keys_rotated, result.values_resealed) == (3, 3)
    assert DataKey.objects.filter(destroyed_at__isnull=False).count() == 3
    assert DataKey.objects.get(subject=BLIND_INDEX_SUBJECT) == system_key
    clear_key_cache()
    assert sorted(n.reason for n in note_model.objects.all()) == [
        "ann's reason",
        "bob's reason",
        "cy's reason",
    ]


def test_rotating_a_shredded_or_unknown_subject(note_model):
    assert rotate_data_key(subject="patient:nobody").keys_rotated == 0
    note_model.objects.create(owner="ann", reason="x")
    destroy_subject(subject="patient:ann")

    with pytest.raises(KeyDestroyed):
        rotate_data_key(subject="patient:ann")


@pytest.mark.django_db(transaction=True)
def test_a_value_sealed_while_its_key_rotates_is_not_lost(sealed_note_table):
    note_model = sealed_note_table
    note_model.objects.create(owner="ann", reason="early")
    sealed = threading.Event()
    errors: list[BaseException] = []

    def write_late_value() -> None:
        try:
            with transaction.atomic():
                note = note_model(owner="ann", reason="late")
                _ = note.reason_sealed  # sealed under the key about to be retired
                sealed.set()
                threading.Event().wait(0.5)  # the rotation starts meanwhile
                note.save()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            sealed.set()
        finally:
            connection.close()

    try:
        # Given: a transaction has sealed a value and not yet committed it.
        writer = threading.Thread(target=write_late_value)
        writer.start()
        sealed.wait(5)

        # When: the subject's data key is rotated.
        result = rotate_data_key(subject="patient:ann")
        writer.join(30)

        # Then: the rotation waited for it and re-encrypted it too.
        assert errors == []
        assert result.values_resealed == 2
        clear_key_cache()
        current = DataKey.objects.get(subject="patient:ann", retired_at__isnull=True)
        notes = note_model.objects.order_by("pk")
        assert [n.reason for n in notes] == ["early", "late"]
        assert {crypto.read_key_id(n.reason_sealed) for n in notes} == {current.pk}
    finally:
        note_model.objects.all().delete()
