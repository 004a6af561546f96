"""Names compared as people type them: the Python fold."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.core.text import fold


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
