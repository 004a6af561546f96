import pickle
from datetime import date, datetime

import pytest
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.serializers.base import DeserializedObject
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Upper
from django.forms.models import model_to_dict, modelform_factory

from carnet.vault import crypto
from carnet.vault.errors import KeyDestroyed, PlaintextRefused, TokenInvalid
from carnet.vault.fields import MASK, SealedDateField, SealedTextField
from carnet.vault.models import DataKey
from carnet.vault.services import clear_key_cache, destroy_subject
from carnet.vault.tests.sealed_note import NotAdopted, SealedNote

CANARY = "CANARY-7f3a9c-douleur-thoracique"


def raw_columns(note):
    """The stored bytes of the sealed columns, read with SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT reason, born_on FROM {SealedNote._meta.db_table} WHERE id = %s",  # noqa: S608
            [note.pk],
        )
        reason, born_on = cursor.fetchone()
    return (
        None if reason is None else bytes(reason),
        None if born_on is None else bytes(born_on),
    )


def test_only_ciphertext_reaches_the_database(note_model, django_assert_num_queries):
    note = note_model(owner="ann", reason=CANARY, born_on=date(1980, 1, 2))

    note.save()

    reason, born_on = raw_columns(note)
    assert CANARY.encode() not in reason
    assert b"1980" not in born_on
    assert reason[0] == born_on[0] == crypto.VERSION
    key = DataKey.objects.get(subject="patient:ann")
    assert crypto.read_key_id(reason) == crypto.read_key_id(born_on) == key.pk


def test_values_read_back_as_plaintext(note_model):
    note_model.objects.create(owner="ann", reason="fièvre", born_on=date(1980, 1, 2))
    clear_key_cache()

    note = note_model.objects.get()

    assert note.reason == "fièvre"
    assert note.born_on == date(1980, 1, 2)


def test_a_value_is_decrypted_once_per_instance(note_model, django_assert_num_queries):
    note_model.objects.create(owner="ann", reason="fièvre")
    note = note_model.objects.get()
    clear_key_cache()

    with django_assert_num_queries(1):  # the data key, on the first read only
        assert note.reason == "fièvre"
        assert note.reason == "fièvre"


def test_reading_an_unchanged_instance_does_not_reseal_it(note_model):
    note_model.objects.create(owner="ann", reason="fièvre")
    note = note_model.objects.get()
    token = note.reason_sealed

    note.title = "changed"
    note.save()

    assert raw_columns(note)[0] == token
    assert note.reason_sealed == token


def test_assigning_plaintext_reseals_on_save(note_model):
    note = note_model.objects.create(owner="ann", reason="before")
    token = note.reason_sealed

    note.reason = "after"
    note.save(update_fields=["reason"])

    assert raw_columns(note)[0] != token
    assert note_model.objects.get().reason == "after"


def test_empty_values_are_stored_as_null_without_ciphertext(note_model):
    note = note_model.objects.create(owner="ann", reason="", born_on=None)
    other = note_model.objects.create(owner="bob")

    assert raw_columns(note) == (None, None)
    assert raw_columns(other) == (None, None)
    assert note_model.objects.get(pk=note.pk).reason == ""
    assert note_model.objects.get(pk=note.pk).born_on is None
    assert not DataKey.objects.exists()


def test_assigning_none_to_a_text_reads_back_as_empty(note_model):
    note = note_model(owner="ann", reason=None)

    assert note.reason == ""


def test_a_value_copied_to_another_row_does_not_open(note_model):
    source = note_model.objects.create(owner="ann", reason="x")
    target = note_model.objects.create(owner="ann", reason="y")
    note_model.objects.filter(pk=target.pk).update(reason=source.reason_sealed)

    with pytest.raises(TokenInvalid):
        _ = note_model.objects.get(pk=target.pk).reason


def test_a_value_copied_to_another_column_does_not_open(note_model):
    note = note_model.objects.create(owner="ann", reason="1980-01-02")
    note_model.objects.filter(pk=note.pk).update(born_on=F("reason"))

    with pytest.raises(TokenInvalid):
        _ = note_model.objects.get(pk=note.pk).born_on


def test_bulk_create_seals_every_value(note_model):
    notes = [note_model(owner="ann", reason=f"{CANARY}-{i}") for i in range(3)]

    note_model.objects.bulk_create(notes)

    stored = note_model.objects.order_by("id")
    assert all(CANARY.encode() not in raw_columns(n)[0] for n in stored)
    clear_key_cache()
    assert sorted(n.reason for n in stored) == [f"{CANARY}-{i}" for i in range(3)]


def test_bulk_update_seals_pending_plaintext(note_model):
    notes = [note_model.objects.create(owner="ann", reason="old") for _ in range(2)]
    for i, note in enumerate(notes):
        note.reason = f"{CANARY}-{i}"

    note_model.objects.bulk_update(notes, ["reason"])

    for i, note in enumerate(notes):
        assert CANARY.encode() not in raw_columns(note)[0]
        assert note_model.objects.get(pk=note.pk).reason == f"{CANARY}-{i}"


def test_plaintext_in_update_filter_or_value_is_refused(note_model):
    note = note_model.objects.create(owner="ann", reason="x")
    token = note.reason_sealed
    notes = note_model.objects.filter(pk=note.pk)
    refused = [
        lambda: notes.update(reason=CANARY),
        lambda: notes.update(reason=CANARY.encode()),
        lambda: list(note_model.objects.filter(reason="x")),
        lambda: notes.update(born_on=Value(date(1980, 1, 2))),
        lambda: notes.update(reason=Upper("title")),
        lambda: notes.update(reason=F("title")),
        lambda: notes.update(reason=Concat(Value("a"), Value("b"))),
    ]

    for attempt in refused:
        with pytest.raises(PlaintextRefused), transaction.atomic():
            attempt()

    assert raw_columns(note)[0] == token


def test_tokens_can_be_compared_and_nulls_filtered(note_model):
    note = note_model.objects.create(owner="ann", reason="x")
    note_model.objects.create(owner="bob")

    assert list(note_model.objects.filter(reason=note.reason_sealed)) == [note]
    assert note_model.objects.filter(reason__isnull=True).count() == 1
    assert note_model.objects.values_list("reason", flat=True).get(pk=note.pk) == (
        note.reason_sealed
    )


def test_a_shredded_subjects_values_raise_key_destroyed(note_model):
    note_model.objects.create(owner="ann", reason="secret", born_on=date(1980, 1, 2))
    kept = note_model.objects.create(owner="bob", reason="kept")

    destroy_subject(subject="patient:ann")
    clear_key_cache()

    note = note_model.objects.get(owner="ann")
    with pytest.raises(KeyDestroyed) as caught:
        _ = note.reason
    with pytest.raises(KeyDestroyed):
        _ = note.born_on
    assert str(caught.value.render()) == "This information has been erased."
    assert note_model.objects.get(pk=kept.pk).reason == "kept"


def test_a_shredded_row_can_still_be_saved_and_refreshed(note_model):
    note_model.objects.create(owner="ann", reason="secret")
    destroy_subject(subject="patient:ann")
    note = note_model.objects.get()

    note.title = "erased patient"
    note.save()
    note.refresh_from_db()
    note.full_clean()

    assert note_model.objects.get().title == "erased patient"


def test_refresh_from_db_replaces_plaintext_without_decrypting(note_model):
    note = note_model.objects.create(owner="ann", reason="before")
    note_model.objects.filter(pk=note.pk).update(
        reason=note_model.objects.create(owner="ann", reason="other").reason_sealed
    )

    note.refresh_from_db()

    assert "_reason_plaintext" not in note.__dict__
    with pytest.raises(TokenInvalid):  # the other row's token, in this row
        _ = note.reason


def test_deferred_sealed_fields_load_on_first_read(note_model):
    note_model.objects.create(owner="ann", reason="later")

    note = note_model.objects.only("owner").get()

    assert {"reason_sealed", "born_on_sealed"} <= note.get_deferred_fields()
    assert note.reason == "later"


def test_assigning_a_deferred_sealed_field_saves_it(note_model):
    note_model.objects.create(owner="ann", reason="before")
    note = note_model.objects.only("owner").get()

    note.reason = "after"
    note.save()

    assert note_model.objects.get().reason == "after"


def test_a_damaged_value_does_not_stop_its_row_from_loading(note_model):
    note = note_model.objects.create(owner="ann", title="kept", reason="x")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SealedNote._meta.db_table} SET reason = %s WHERE id = %s",  # noqa: S608
            [b"legacy plaintext", note.pk],
        )

    loaded = note_model.objects.get()

    assert loaded.title == "kept"
    with pytest.raises(TokenInvalid):
        _ = loaded.reason
    with pytest.raises(PlaintextRefused):
        loaded.reason_sealed = "not bytes"


def test_full_clean_validates_the_plaintext(note_model):
    note = note_model(owner="ann", reason="x" * 51)

    with pytest.raises(ValidationError) as caught:
        note.full_clean()

    assert "reason" in caught.value.message_dict
    note.reason = "x" * 50
    note.full_clean()
    note.save()
    assert note_model.objects.get().reason == "x" * 50


def test_a_required_sealed_field_must_not_be_empty():
    field = SealedTextField("secret")
    field.set_attributes_from_name("secret")

    with pytest.raises(ValidationError):
        field.validate_plaintext("")


def test_wrong_plaintext_types_are_refused_at_assignment(note_model):
    note = note_model(owner="ann")

    with pytest.raises(TypeError, match="takes a str"):
        note.reason = 12
    with pytest.raises(TypeError, match="not a datetime"):
        note.born_on = datetime(1980, 1, 2, 3, 4)  # noqa: DTZ001
    with pytest.raises(ValueError, match="Invalid isoformat"):
        note.born_on = "02/01/1980"
    note.born_on = "1980-01-02"
    assert note.born_on == date(1980, 1, 2)


def unpickled(note):
    """A copy of `note` through pickle (its state: the model lives outside the app registry)."""
    copy = type(note).__new__(type(note))
    copy.__setstate__(pickle.loads(pickle.dumps(note.__reduce__()[2])))  # noqa: S301 - our own bytes
    return copy


def test_pickling_keeps_pending_values_but_drops_decrypted_ones(note_model):
    note_model.objects.create(owner="ann", reason=CANARY)
    loaded = note_model.objects.get()
    assert loaded.reason == CANARY
    pending = note_model(owner="ann", reason="pending")

    assert CANARY.encode() not in pickle.dumps(loaded.__reduce__()[2])
    assert unpickled(loaded).__dict__["_reason_plaintext"] is None
    assert unpickled(loaded).reason == CANARY
    assert unpickled(pending).reason == "pending"


def test_forms_and_serialisers_never_see_plaintext(note_model):
    note = note_model.objects.create(owner="ann", reason=CANARY)
    form_class = modelform_factory(note_model, fields=["owner", "reason"])

    form = form_class(instance=note, data={"owner": "ann", "reason": "hacked"})
    html = form.as_p()
    assert form.is_valid()
    form.save()
    dumped = serializers.serialize("json", note_model.objects.all())

    assert MASK in html
    assert CANARY not in html
    assert CANARY not in dumped
    assert model_to_dict(note)["reason"] == note.reason_sealed
    assert note_model.objects.get().reason == CANARY


def test_deserialised_tokens_save_as_they_are(note_model):
    note_model.objects.create(owner="ann", reason=CANARY)
    (dumped,) = serializers.serialize("python", note_model.objects.all())
    note_model.objects.all().delete()

    fields = {
        f.attname: f.to_python(dumped["fields"][f.name])
        for f in note_model._meta.concrete_fields
        if f.name in dumped["fields"]
    }
    DeserializedObject(note_model(pk=dumped["pk"], **fields)).save()  # as loaddata

    assert CANARY not in str(dumped)
    assert note_model.objects.get().reason == CANARY


def test_the_fields_deconstruct_for_migrations():
    field = SealedTextField("reason", blank=True, max_length=500)
    field.set_attributes_from_name("reason")

    name, path, args, kwargs = field.deconstruct()

    assert (name, path) == ("reason", "carnet.vault.fields.SealedTextField")
    assert kwargs == {"verbose_name": "reason", "blank": True, "max_length": 500}
    rebuilt = SealedTextField(*args, **kwargs)
    assert (rebuilt.null, rebuilt.max_length, rebuilt.blank) == (True, 500, True)
    assert SealedDateField("born on").deconstruct()[3] == {"verbose_name": "born on"}


def test_the_column_is_named_after_the_field_and_the_token_attribute_is_sealed():
    field = SealedNote._meta.get_field("reason")

    assert (field.attname, field.column) == ("reason_sealed", "reason")
    assert field.null


@pytest.mark.parametrize("kwarg", ["default", "unique", "db_index", "choices"])
def test_meaningless_options_are_refused(kwarg):
    with pytest.raises(TypeError, match=kwarg):
        SealedTextField("x", **{kwarg: "a"})


def test_a_model_without_the_vault_contract_fails_the_system_checks():
    errors = NotAdopted._meta.get_field("secret").check()

    assert {e.id for e in errors} == {"vault.E001", "vault.E002"}
    assert SealedNote._meta.get_field("reason").check() == []
