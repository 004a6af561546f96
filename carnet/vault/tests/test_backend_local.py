import base64
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from carnet.vault.backends import KeyBackend, get_backend
from carnet.vault.backends.local import LocalKeyFile
from carnet.vault.errors import KekInUse, KekMissing, KeyBackendError

DATA_KEY = bytes(range(100, 132))


def test_the_key_file_is_created_on_first_use_readable_by_its_owner_only(key_file):
    backend = get_backend()

    kek_id = backend.current_kek_id()

    assert isinstance(backend, KeyBackend)
    assert backend.name == "local"
    assert kek_id.startswith("local-")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key_file.parent).st_mode) == 0o700
    assert json.loads(key_file.read_text())["current"] == kek_id


def test_ensure_is_idempotent(key_file):
    backend = LocalKeyFile(path=key_file)

    assert backend.ensure() is True
    before = key_file.read_bytes()
    assert backend.ensure() is False
    assert key_file.read_bytes() == before


def test_wrap_and_unwrap_round_trip_with_rfc5649(local_backend, key_file):
    kek_id, wrapped = local_backend.wrap(DATA_KEY)
    kek = base64.b64decode(json.loads(key_file.read_text())["keks"][0]["key"])

    assert len(wrapped) == 40
    assert DATA_KEY not in wrapped
    assert wrapped == aes_key_wrap_with_padding(kek, DATA_KEY)
    assert local_backend.unwrap(kek_id, wrapped) == DATA_KEY


def test_a_tampered_wrapped_key_is_refused(local_backend):
    kek_id, wrapped = local_backend.wrap(DATA_KEY)

    with pytest.raises(KeyBackendError, match="does not open"):
        local_backend.unwrap(kek_id, wrapped[:-1] + bytes([wrapped[-1] ^ 1]))


def test_a_new_kek_becomes_current_and_old_ones_still_unwrap(local_backend):
    old_id, old_wrapped = local_backend.wrap(DATA_KEY)

    new_id = local_backend.create_kek()

    assert new_id != old_id
    assert local_backend.current_kek_id() == new_id
    assert local_backend.kek_ids() == [old_id, new_id]
    assert local_backend.wrap(DATA_KEY)[0] == new_id
    assert local_backend.unwrap(old_id, old_wrapped) == DATA_KEY


def test_a_destroyed_kek_is_gone_and_the_current_one_cannot_be_destroyed(
    local_backend,
):
    old_id, old_wrapped = local_backend.wrap(DATA_KEY)
    new_id = local_backend.create_kek()

    with pytest.raises(KekInUse):
        local_backend.destroy_kek(new_id)
    local_backend.destroy_kek(old_id)

    assert local_backend.kek_ids() == [new_id]
    with pytest.raises(KekMissing):
        local_backend.unwrap(old_id, old_wrapped)
    with pytest.raises(KekMissing):
        local_backend.destroy_kek(old_id)


def test_a_rotation_by_another_process_is_seen(key_file):
    here, there = LocalKeyFile(path=key_file), LocalKeyFile(path=key_file)
    here.current_kek_id()

    new_id = there.create_kek()

    assert here.current_kek_id() == new_id
    assert here.unwrap(*there.wrap(DATA_KEY)) == DATA_KEY


def test_a_key_file_readable_by_others_is_refused(local_backend, key_file):
    local_backend.current_kek_id()
    key_file.chmod(0o644)

    with pytest.raises(KeyBackendError, match="chmod 600"):
        LocalKeyFile(path=key_file).current_kek_id()


def test_a_damaged_key_file_is_refused(key_file):
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text("{not json")
    key_file.chmod(0o600)

    with pytest.raises(KeyBackendError, match="not a valid key file"):
        LocalKeyFile(path=key_file).current_kek_id()
