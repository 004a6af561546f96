import re

from django.test import override_settings

from carnet.audit.pseudonyms import normalise_ip, pseudonymise_ip


def test_pseudonym_is_sixteen_hex_characters_and_stable():
    first = pseudonymise_ip("203.0.113.7")

    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert pseudonymise_ip("203.0.113.7") == first
    assert pseudonymise_ip("203.0.113.8") != first


def test_no_address_gives_no_pseudonym():
    assert pseudonymise_ip("") == ""
    assert pseudonymise_ip("   ") == ""


def test_spellings_of_one_address_share_a_pseudonym():
    assert normalise_ip("::ffff:203.0.113.7") == "203.0.113.7"
    assert normalise_ip("2001:DB8:0:0::1") == "2001:db8::1"
    assert pseudonymise_ip("::ffff:203.0.113.7") == pseudonymise_ip("203.0.113.7")


def test_rotating_the_secret_key_changes_the_pseudonym():
    before = pseudonymise_ip("203.0.113.7")

    with override_settings(SECRET_KEY="another-test-only-key"):
        after = pseudonymise_ip("203.0.113.7")

    assert after != before
