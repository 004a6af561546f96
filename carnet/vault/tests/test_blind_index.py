"""Normalisation for blind indexes (pure functions)."""

import pytest

from carnet.vault.blind_index import normalise
from carnet.vault.errors import BlindIndexValueInvalid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Jeanne.Dupont@Example.FR ", "jeanne.dupont@example.fr"),
        ("STRASSE@beispiel.de", "strasse@beispiel.de"),
        ("Straße@beispiel.de", "strasse@beispiel.de"),
    ],
)
def test_email_is_stripped_and_casefolded(value, expected):
    assert normalise(kind="email", value=value) == expected


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("+33 (0)6 12 34 56 78", None, "+33612345678"),
        ("0033 6 12 34 56 78", None, "+33612345678"),
        ("+33612345678", "DE", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("06-12-34-56-78", "fr", "+33612345678"),
        ("030 1234567", "DE", "+49301234567"),
        ("0151/12345678", "DE", "+4915112345678"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("+39 06 1234 5678", None, "+390612345678"),
        ("347 123 4567", "IT", "+393471234567"),
    ],
)
def test_phone_numbers_take_their_international_form(value, country, expected):
    assert normalise(kind="phone", value=value, country=country) == expected


def test_one_number_written_four_ways_has_one_form():
    forms = {
        normalise(kind="phone", value="06 12 34 56 78", country="FR"),
        normalise(kind="phone", value="+33 6 12 34 56 78"),
        normalise(kind="phone", value="0033612345678"),
        normalise(kind="phone", value="+33 (0)6-12-34-56-78"),
    }

    assert forms == {"+33612345678"}


@pytest.mark.parametrize(
    ("value", "country", "message"),
    [
        ("06 12 34 56 78", None, "no country code"),
        ("6 12 34 56 78", "FR", "not valid for this country"),
        ("call me", None, "not valid"),
        ("06 12 AB", "FR", "not valid"),
        ("", None, "not valid"),
        ("+", None, "not valid"),
        ("+33 6 12 34 56 78 90 12 34", None, "not valid"),
    ],
)
def test_phone_numbers_that_cannot_be_normalised_are_refused(value, country, message):
    with pytest.raises(BlindIndexValueInvalid) as caught:
        normalise(kind="phone", value=value, country=country)

    assert message in caught.value.render()


def test_an_unsupported_country_is_a_programming_error():
    with pytest.raises(ValueError, match="unsupported country"):
        normalise(kind="phone", value="0612345678", country="ES")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1 85 05 78 006 084 36", "185057800608436"), ("ab 12\tcd", "AB12CD")],
)
def test_health_identifiers_are_upper_cased_without_spaces(value, expected):
    assert normalise(kind="nhi", value=value) == expected


@pytest.mark.parametrize("kind", ["email", "nhi"])
def test_empty_values_are_refused(kind):
    with pytest.raises(BlindIndexValueInvalid):
        normalise(kind=kind, value="   ")


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown blind index kind"):
        normalise(kind="name", value="Dupont")
