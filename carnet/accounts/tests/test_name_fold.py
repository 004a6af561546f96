"""The SQL fold of names (carnet.core.text.Folded) agrees with the Python fold."""

import pytest

from carnet.accounts.models import Patient
from carnet.accounts.tests.factories import PatientFactory
from carnet.core.text import Folded, fold


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
