import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from carnet.vault import crypto
from carnet.vault.errors import TokenInvalid, UnsupportedTokenVersion

KEY = bytes(range(32))
CIPHER = AESGCM(KEY)
CONTEXT = "booking_appointment.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21"


def seal(plaintext=b"douleur thoracique", *, key_id=42, context=CONTEXT):
    return crypto.encrypt(
        cipher=CIPHER, key_id=key_id, context=context, plaintext=plaintext
    )


def test_a_token_opens_with_its_context():
    token = seal()

    assert crypto.decrypt(cipher=CIPHER, token=token, context=CONTEXT) == (
        b"douleur thoracique"
    )


def test_the_token_layout_is_version_key_id_nonce_ciphertext_tag():
    token = seal(b"abc", key_id=0x0102030405060708)

    assert token[0] == 0x01
    assert token[1:9] == bytes.fromhex("0102030405060708")
    assert len(token) == 1 + 8 + 12 + 3 + 16
    assert crypto.read_key_id(token) == 0x0102030405060708


def test_two_seals_of_one_value_differ():
    assert seal() != seal()


def test_every_byte_is_authenticated():
    token = seal()

    for position in range(len(token)):
        tampered = bytearray(token)
        tampered[position] ^= 0x01
        with pytest.raises(TokenInvalid):
            crypto.decrypt(cipher=CIPHER, token=bytes(tampered), context=CONTEXT)


def test_a_token_copied_to_another_row_column_or_table_does_not_open():
    token = seal()
    elsewhere = [
        "booking_appointment.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e22",
        "booking_appointment.note.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21",
        "records_note.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21",
    ]

    for context in elsewhere:
        with pytest.raises(TokenInvalid, match="authentication failed"):
            crypto.decrypt(cipher=CIPHER, token=token, context=context)


def test_a_token_moved_to_another_key_id_does_not_open():
    token = seal(key_id=1)
    moved = crypto.token_header(2) + token[crypto.HEADER_BYTES :]

    with pytest.raises(TokenInvalid):
        crypto.decrypt(cipher=CIPHER, token=moved, context=CONTEXT)


def test_an_unknown_version_byte_is_refused_before_decryption():
    token = bytearray(seal())
    token[0] = 0x02

    with pytest.raises(UnsupportedTokenVersion, match="0x02"):
        crypto.decrypt(cipher=CIPHER, token=bytes(token), context=CONTEXT)
    with pytest.raises(UnsupportedTokenVersion):
        crypto.read_key_id(bytes(token))


@pytest.mark.parametrize("token", [b"", b"\x01", b"\x01" + bytes(35)])
def test_a_too_short_token_is_refused(token):
    with pytest.raises(TokenInvalid, match="too short"):
        crypto.read_key_id(token)


def test_a_token_naming_key_zero_is_refused():
    with pytest.raises(TokenInvalid, match="no data key"):
        crypto.read_key_id(b"\x01" + bytes(8) + bytes(28))


def test_another_key_does_not_open_a_token():
    with pytest.raises(TokenInvalid):
        crypto.decrypt(cipher=AESGCM(bytes(32)), token=seal(), context=CONTEXT)


def test_a_context_is_required():
    with pytest.raises(ValueError, match="context"):
        seal(context="")


def test_looks_like_token_checks_version_and_length_only():
    assert crypto.looks_like_token(seal())
    assert not crypto.looks_like_token(b"plaintext that is long enough to pass")
    assert not crypto.looks_like_token(b"\x01short")


def test_derived_keys_depend_on_key_and_purpose():
    a = crypto.derive_key(key=KEY, purpose="blind-index/email")

    assert a == crypto.derive_key(key=KEY, purpose="blind-index/email")
    assert a != crypto.derive_key(key=KEY, purpose="blind-index/phone")
    assert a != crypto.derive_key(key=bytes(32), purpose="blind-index/email")
    assert len(a) == 32


def test_keyed_digest_is_hmac_sha256():
    # RFC 4231, test case 2
    digest = crypto.keyed_digest(key=b"Jefe", message=b"what do ya want for nothing?")

    assert digest.hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


@given(plaintext=st.binary(max_size=2048), key_id=st.integers(1, 2**63 - 1))
def test_round_trip_for_any_value_and_key_id(plaintext, key_id):
    token = seal(plaintext, key_id=key_id)

    assert crypto.read_key_id(token) == key_id
    assert crypto.decrypt(cipher=CIPHER, token=token, context=CONTEXT) == plaintext


@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_single_bit_flip_is_detected(plaintext, data):
    token = bytearray(seal(plaintext))
    position = data.draw(st.integers(0, len(token) - 1))
    token[position] ^= 1 << data.draw(st.integers(0, 7))

    with pytest.raises(TokenInvalid):
        crypto.decrypt(cipher=CIPHER, token=bytes(token), context=CONTEXT)
