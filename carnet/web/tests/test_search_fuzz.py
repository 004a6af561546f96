"""Whatever a visitor types, the search page answers (never a 500), on both databases."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.directory.services import reindex_agendas

pytestmark = pytest.mark.django_db

NASTY = [
    '"',
    "a* OR b",
    "NEAR(a b)",
    "-pédiatre",
    "^x",
    "title:x",
    "'; drop table x; --",
    "%_\\",
    "a" * 120,
    "ﬁ ß İ ǅ",
    "😷 dermato",
    "AND",
    "*",
    "()",
    "\u200b",
]


@pytest.mark.parametrize("text", NASTY)
def test_odd_search_words_get_a_page(client, agenda, motive, text):
    reindex_agendas()
    for params in (
        {"q": text},
        {"place": text},
        {"q": text, "place": text, "sort": "distance"},
    ):
        response = client.get(reverse("web:search"), params)
        assert response.status_code == 200


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=st.text(max_size=40), place=st.text(max_size=20))
def test_any_text_gets_a_page(client, agenda, motive, q, place):
    response = client.get(reverse("web:search"), {"q": q, "place": place})
    assert response.status_code == 200
