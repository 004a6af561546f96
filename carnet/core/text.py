"""Comparing names as people type them: without accents, case or extra spaces.

`fold(text)` is the Python side ("Léa  Müller" → "lea muller"); `Folded(field)`
the database side, the same fold in SQL: on PostgreSQL `lower(carnet_unaccent(…))`
(the IMMUTABLE unaccent wrapper the search index uses), on SQLite a function
`carnet_fold` registered on every new connection (CoreConfig.ready).
"""

import unicodedata
from typing import Any

from django.db.models import CharField, Func


def fold(text: str) -> str:
    """`text` without diacritics, case-folded, inner spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


class Folded(Func):
    """The SQL fold of a text column (see the module doc), for `contains` lookups."""

    function = "carnet_fold"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="lower(carnet_unaccent(%(expressions)s))",
            **extra,
        )


def register_sqlite_fold(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give a new SQLite connection the `carnet_fold` function (connection_created)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "carnet_fold", 1, fold, deterministic=True
        )
