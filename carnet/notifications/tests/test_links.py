"""Tests of the signed one-click action tokens (no database).

Examples pin the format (length, alphabet), the expiry boundary, every way a
token can be refused and the key rotation through SECRET_KEY_FALLBACKS;
property tests (hypothesis) check the round trip for any content and that any
single-character change is refused.
"""

import re
import string
import struct
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.test import override_settings
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from carnet.notifications.links import (
    ACTION_CANCEL,
    ACTION_CONFIRM,
    ACTION_OFFER,
    ACTION_TOKEN_LENGTH,
    ACTION_TOKEN_PATTERN,
    ACTION_TOKEN_SALT,
    ACTIONS,
    ActionToken,
    ActionTokenError,
    ActionTokenExpired,
    ActionTokenInvalid,
    make_action_token,
    read_action_token,
)

REF = "0b6f4f3e-8d1c-4a57-9e0a-2f5d7c1b9a64"
# Tuesday 16 June 2026, 10:00 CEST: the appointment's start.
STARTS = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 14, 18, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
BASE64URL = string.ascii_letters + string.digits + "-_"
# GSM 03.38 basic character set, the part a URL can use (an SMS stays 7-bit).
GSM_URL_SAFE = set(string.ascii_letters + string.digits + "-_.")


def make(**overrides):
    values = {
        "appointment_ref": REF,
        "version": 3,
        "action": ACTION_CONFIRM,
        "expires_at": STARTS,
    }
    values.update(overrides)
    return make_action_token(**values)


def sign_payload(payload: bytes, *, salt: str = ACTION_TOKEN_SALT) -> str:
    """Sign an arbitrary payload the way the module does (same key, separator)."""
    signer = signing.Signer(salt=salt, sep=".")
    return signer.sign(signing.b64_encode(payload).decode("ascii"))


# Round trip ---------------------------------------------------------------


@pytest.mark.parametrize("action", [ACTION_CONFIRM, ACTION_CANCEL, ACTION_OFFER])
def test_round_trip_returns_what_was_signed(action):
    token = make(action=action, version=7)

    assert read_action_token(token, now=NOW) == ActionToken(
        appointment_ref=REF, version=7, action=action, expires_at=STARTS
    )


def test_the_actions_are_confirm_cancel_and_offer():
    assert ACTIONS == ("confirm", "cancel", "offer")


def test_an_offer_token_carries_the_offer_reference_and_version_zero():
    offer_ref = "5a4c0d3e-1f2b-4c6d-8e9f-0a1b2c3d4e5f"
    expires_at = datetime(2026, 3, 2, 6, 15, tzinfo=UTC)

    token = make(
        appointment_ref=offer_ref, version=0, action=ACTION_OFFER, expires_at=expires_at
    )

    assert len(token) == ACTION_TOKEN_LENGTH
    assert re.fullmatch(ACTION_TOKEN_PATTERN, token)
    code = signing.b64_decode(token.split(".")[0].encode())[0]
    assert code == 3
    assert read_action_token(token, now=expires_at - SECOND) == ActionToken(
        appointment_ref=offer_ref, version=0, action="offer", expires_at=expires_at
    )
    with pytest.raises(ActionTokenExpired):
        read_action_token(token, now=expires_at)


def test_an_older_version_is_returned_for_the_caller_to_judge():
    old = make(version=1)
    new = make(version=2)

    assert read_action_token(old, now=NOW).version == 1
    assert read_action_token(new, now=NOW).version == 2
    assert old != new


def test_the_same_content_always_gives_the_same_token():
    assert make() == make()


def test_each_field_changes_the_token():
    base = make()
    others = [
        make(appointment_ref=str(uuid.UUID(int=1))),
        make(version=4),
        make(action=ACTION_CANCEL),
        make(action=ACTION_OFFER),
        make(expires_at=STARTS + SECOND),
    ]
    assert base not in others
    assert len(set(others)) == len(others)


def test_the_reference_comes_back_in_canonical_form():
    token = make(appointment_ref=REF.upper().replace("-", ""))

    assert read_action_token(token, now=NOW).appointment_ref == REF


def test_expiry_is_rounded_down_to_the_second_and_read_in_utc():
    paris = ZoneInfo("Europe/Paris")
    token = make(expires_at=datetime(2026, 6, 16, 10, 0, 0, 999_999, tzinfo=paris))

    expires_at = read_action_token(token, now=NOW).expires_at
    assert expires_at == STARTS
    assert expires_at.tzinfo is UTC


# Format -----------------------------------------------------------------------


def test_tokens_are_short_url_safe_and_sms_safe():
    token = make(version=2**32 - 1, expires_at=datetime(2106, 1, 1, tzinfo=UTC))

    # Measured: 34 characters of payload, "." and 43 of HMAC-SHA256 = 78.
    assert len(token) == ACTION_TOKEN_LENGTH == 78
    assert len(token) < 80
    assert len(make()) == ACTION_TOKEN_LENGTH
    assert quote(token, safe="") == token
    assert set(token) <= GSM_URL_SAFE
    assert re.fullmatch(ACTION_TOKEN_PATTERN, token)


def test_the_payload_carries_no_database_id_and_no_personal_data():
    payload = make().split(".")[0]

    code, ref, version, expires = struct.unpack(
        ">B16sII", signing.b64_decode(payload.encode())
    )
    assert (code, uuid.UUID(bytes=ref), version) == (1, uuid.UUID(REF), 3)
    assert expires == int(STARTS.timestamp())


# Expiry -----------------------------------------------------------------------


def test_valid_until_the_last_second_before_expiry():
    token = make()

    assert read_action_token(token, now=STARTS - timedelta(microseconds=1)).version == 3


@pytest.mark.parametrize("now", [STARTS, STARTS + SECOND, STARTS + timedelta(days=400)])
def test_expired_at_and_after_the_expiry(now):
    token = make(action=ACTION_CANCEL)

    with pytest.raises(ActionTokenExpired) as caught:
        read_action_token(token, now=now)

    error = caught.value
    assert isinstance(error, ActionTokenError)
    assert error.code == "action_token_expired"
    assert error.token == ActionToken(
        appointment_ref=REF, version=3, action=ACTION_CANCEL, expires_at=STARTS
    )
    with translation.override("en"):
        assert "expired" in error.render()
    with translation.override("fr"):
        assert "expiré" in error.render()


def test_expiry_is_compared_as_an_instant_whatever_the_zone_of_now():
    token = make()
    paris = ZoneInfo("Europe/Paris")

    assert read_action_token(token, now=datetime(2026, 6, 16, 9, 59, 59, tzinfo=paris))
    with pytest.raises(ActionTokenExpired):
        read_action_token(token, now=datetime(2026, 6, 16, 10, 0, tzinfo=paris))


def test_a_forged_token_is_invalid_not_expired():
    token = make()
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")

    with pytest.raises(ActionTokenInvalid):
        read_action_token(forged, now=STARTS + timedelta(days=1))


# Refusals ---------------------------------------------------------------------


def test_changing_any_character_is_refused():
    token = make()
    for index, original in enumerate(token):
        for replacement in ("A", "z", "0", "-", "_", ".", "~", "é"):
            if replacement == original:
                continue
            tampered = token[:index] + replacement + token[index + 1 :]
            with pytest.raises(ActionTokenInvalid):
                read_action_token(tampered, now=NOW)


@pytest.mark.parametrize(
    "broken",
    [
        "",
        ".",
        "no-separator-at-all",
        "AAAA.BBBB",
        "A" * 300,
        " ",
    ],
)
def test_malformed_tokens_are_invalid(broken):
    with pytest.raises(ActionTokenInvalid) as caught:
        read_action_token(broken, now=NOW)
    assert caught.value.code == "action_token_invalid"
    assert caught.value.render()


def test_truncated_extended_or_padded_tokens_are_invalid():
    token = make()
    for broken in (
        token[:-1],
        token[1:],
        token + "A",
        token + "=",
        " " + token,
        token + "\n",
    ):
        with pytest.raises(ActionTokenInvalid):
            read_action_token(broken, now=NOW)


def test_a_token_that_is_not_a_string_is_invalid():
    with pytest.raises(ActionTokenInvalid):
        read_action_token(make().encode(), now=NOW)  # type: ignore[arg-type]


def test_another_salt_is_invalid():
    payload = make().split(".")[0]
    other = sign_payload(signing.b64_decode(payload.encode()), salt="carnet.other.v1")

    assert other.split(".")[0] == payload
    with pytest.raises(ActionTokenInvalid):
        read_action_token(other, now=NOW)


def test_a_django_signed_object_with_the_same_salt_is_invalid():
    token = signing.dumps([REF, 3, ACTION_CONFIRM, 1781596800], salt=ACTION_TOKEN_SALT)

    with pytest.raises(ActionTokenInvalid):
        read_action_token(token, now=NOW)


def test_another_secret_key_is_invalid():
    with override_settings(SECRET_KEY="test-only-another-key-" + "x" * 40):
        token = make()

    with pytest.raises(ActionTokenInvalid):
        read_action_token(token, now=NOW)


def test_a_token_signed_with_a_fallback_key_still_verifies():
    old_key = "test-only-old-key-" + "o" * 40
    new_key = "test-only-new-key-" + "n" * 40
    with override_settings(SECRET_KEY=old_key, SECRET_KEY_FALLBACKS=[]):
        token = make()

    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]):
        assert read_action_token(token, now=NOW).appointment_ref == REF
        # New tokens are signed with the new key only.
        fresh = make()
    assert fresh != token
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[]):
        assert read_action_token(fresh, now=NOW).version == 3
        with pytest.raises(ActionTokenInvalid):
            read_action_token(token, now=NOW)


def test_an_unknown_action_code_is_invalid_even_when_authentic():
    payload = struct.pack(
        ">B16sII", 9, uuid.UUID(REF).bytes, 3, int(STARTS.timestamp())
    )

    with pytest.raises(ActionTokenInvalid):
        read_action_token(sign_payload(payload), now=NOW)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x01" * 24, b"\x01" * 26, b"\x01" + uuid.UUID(REF).bytes + b"\x00" * 9],
)
def test_an_authentic_payload_of_the_wrong_size_is_invalid(payload):
    with pytest.raises(ActionTokenInvalid):
        read_action_token(sign_payload(payload), now=NOW)


def test_an_authentic_non_base64_payload_is_invalid():
    token = signing.Signer(salt=ACTION_TOKEN_SALT, sep=".").sign("not base64!")

    with pytest.raises(ActionTokenInvalid):
        read_action_token(token, now=NOW)


# Programming errors at make and read ------------------------------------------


@pytest.mark.parametrize(
    "action", ["", "Confirm", "CANCEL", "Offer", "reschedule", "1", "3", None]
)
def test_an_unknown_action_is_refused_at_make(action):
    with pytest.raises(ValueError, match="Unknown action"):
        make(action=action)


@pytest.mark.parametrize("ref", ["", "42", "not-a-uuid", None, 42])
def test_a_reference_that_is_not_a_uuid_is_refused(ref):
    with pytest.raises(ValueError, match="appointment_ref"):
        make(appointment_ref=ref)


@pytest.mark.parametrize("version", [-1, 2**32, True, 1.0, "3", None])
def test_a_version_outside_uint32_is_refused(version):
    with pytest.raises(ValueError, match="version"):
        make(version=version)


@pytest.mark.parametrize(
    "expires_at",
    [
        datetime(2026, 6, 16, 8, 0),  # noqa: DTZ001 (naive on purpose)
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2106, 2, 8, tzinfo=UTC),
        "2026-06-16T08:00:00Z",
    ],
)
def test_an_expiry_that_is_naive_or_out_of_range_is_refused(expires_at):
    with pytest.raises(ValueError, match="expires_at"):
        make(expires_at=expires_at)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="now"):
        read_action_token(make(), now=datetime(2026, 6, 14, 18, 0))  # noqa: DTZ001


# Properties -------------------------------------------------------------------

ZONES = st.sampled_from([UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Europe/Rome")])
EXPIRIES = st.datetimes(
    min_value=datetime(1970, 1, 2),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2106, 2, 6),  # noqa: DTZ001
    timezones=ZONES,
)
CONTENTS = st.tuples(
    st.uuids(),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(ACTIONS),
    EXPIRIES,
)


def floor_to_second(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(microsecond=0)


@given(
    content=CONTENTS,
    before=st.timedeltas(min_value=SECOND, max_value=timedelta(days=3650)),
)
def test_property_round_trip(content, before):
    ref, version, action, expires_at = content

    token = make_action_token(
        appointment_ref=str(ref), version=version, action=action, expires_at=expires_at
    )

    assert len(token) == ACTION_TOKEN_LENGTH
    expected = ActionToken(
        appointment_ref=str(ref),
        version=version,
        action=action,
        expires_at=floor_to_second(expires_at),
    )
    assert (
        read_action_token(token, now=floor_to_second(expires_at) - before) == expected
    )
    with pytest.raises(ActionTokenExpired) as caught:
        read_action_token(token, now=floor_to_second(expires_at))
    assert caught.value.token == expected


@settings(max_examples=300)
@given(
    content=CONTENTS,
    position=st.integers(min_value=0, max_value=ACTION_TOKEN_LENGTH - 1),
    replacement=st.one_of(st.sampled_from(BASE64URL + ".="), st.characters()),
    edit=st.sampled_from(["replace", "insert", "delete"]),
)
def test_property_any_single_character_change_is_refused(
    content, position, replacement, edit
):
    ref, version, action, expires_at = content
    token = make_action_token(
        appointment_ref=str(ref), version=version, action=action, expires_at=expires_at
    )
    if edit == "replace":
        if token[position] == replacement:
            replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
    elif edit == "insert":
        tampered = token[:position] + replacement + token[position:]
    else:
        tampered = token[:position] + token[position + 1 :]
    assert tampered != token

    # Never accepted, whatever the clock: not even as an expired token.
    with pytest.raises(ActionTokenInvalid):
        read_action_token(tampered, now=floor_to_second(expires_at) - SECOND)
    with pytest.raises(ActionTokenInvalid):
        read_action_token(tampered, now=floor_to_second(expires_at) + SECOND)
