"""Every sealed column of every model, so that a data-key rotation can find its values.

A `SealedField` registers itself when its model class is created in the project's app
registry (historical migration models and isolated test apps are left out; tests
register their own models explicitly).
"""

import threading
from typing import TYPE_CHECKING, NamedTuple

from django.db import models

if TYPE_CHECKING:
    from carnet.vault.fields import SealedField


class SealedColumn(NamedTuple):
    """One sealed column: the model and its field."""

    model: type[models.Model]
    field: "SealedField"

    @property
    def label(self) -> str:
        """ "<db_table>.<column>", as in the token contexts."""
        return f"{self.model._meta.db_table}.{self.field.column}"


_columns: dict[tuple[str, str], SealedColumn] = {}
_lock = threading.Lock()


def register(model: type[models.Model], field: "SealedField") -> None:
    """Add a sealed column (idempotent)."""
    with _lock:
        _columns[(model._meta.label_lower, field.name)] = SealedColumn(model, field)


def unregister(model: type[models.Model]) -> None:
    """Remove every sealed column of `model` (tests that drop their model's table)."""
    with _lock:
        for key in [k for k, column in _columns.items() if column.model is model]:
            del _columns[key]


def sealed_columns() -> list[SealedColumn]:
    """Every registered sealed column, in a stable order."""
    with _lock:
        return [_columns[key] for key in sorted(_columns)]
