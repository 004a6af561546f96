"""Names compared as people type them: the Python fold and the SQL fold agree."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.accounts.models import Patient
from carnet.accounts.tests.factories import PatientFactory
from carnet.core.text import Folded, fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Léa", "lea"),
        ("  Müller   Schmidt ", "muller schmidt"),
        ("FRANÇOIS", "francois"),
        ("Niccolò D'Ambrosio", "niccolo d'ambrosio"),
        ("", ""),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


@given(st.text(max_size=40))
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Léa", "Hélène-Noëlle", "Çelik", "Àlvarez", "JOSÉ"])
def test_the_database_folds_names_as_python_does(name):
    PatientFactory(first_name=name, last_name="x")

    folded = (
        Patient.objects.annotate(folded=Folded("first_name"))
        .values_list("folded", flat=True)
        .get()
    )

    assert folded == fold(name)
