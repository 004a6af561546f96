"""Model fields whose values are sealed before they reach the database.

A model that uses them defines::

    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    def vault_subject(self) -> str:
        return f"patient:{self.patient.vault_row}"

In services the field reads like an ordinary one: ``appointment.reason = "..."`` keeps
the plaintext on the instance; ``save()`` (and ``bulk_create``) seals it under the
subject's data key with the context ``"<db_table>.<column>.<vault_row>"``, so only
ciphertext is ever sent to the database; reading ``appointment.reason`` decrypts the
stored token once and keeps the plaintext on the instance. Reading a value whose
subject was shredded raises KeyDestroyed (show "erased").

Under the hood, as for a foreign key, the field has two attributes: ``reason`` (the
plaintext) and ``reason_sealed`` (the token, bytes, exactly as stored: this is what
Django's own machinery reads and writes: refresh_from_db, serializers, raw saves,
bulk_update). Reading ``reason_sealed`` seals a pending plaintext first.

Rules:

* Empty values store NULL and no ciphertext: ``""`` and ``None`` for SealedTextField
  (read back as ``""``), ``None`` for SealedDateField. Whether a value is present, and
  roughly its length, is visible in the database; the value is not.
* Plaintext never reaches SQL: ``QuerySet.update(reason="…")``, ``filter(reason="…")``,
  and a plaintext ``Value`` are refused (PlaintextRefused). ``bulk_update`` works (it
  reads ``reason_sealed``, which seals). To search, store a blind index beside it.
* Forms and the admin never see plaintext: the form field is read-only and shows
  "•••"; ``value_from_object`` (model_to_dict, dumpdata) gives the token.
"""

import uuid
from datetime import date, datetime
from typing import Any

from django import forms
from django.apps import apps as global_apps
from django.core import checks, validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value, When
from django.db.models.expressions import Col
from django.db.models.query_utils import DeferredAttribute
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from carnet.vault import registry
from carnet.vault.crypto import looks_like_token
from carnet.vault.errors import PlaintextRefused

MASK = "•••"


class _Plaintext:
    """A field's plaintext on one instance; immutable, so copies of a model never share state.

    Pickling keeps an unsaved (dirty) value and drops a decrypted one: a pickled
    instance (cache, session) never carries plaintext that is already stored.
    """

    __slots__ = ("dirty", "value")

    def __init__(self, value: Any, dirty: bool) -> None:
        self.value = value
        self.dirty = dirty

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        if self.dirty:
            return (_Plaintext, (self.value, True))
        return (_forgotten, ())


def _forgotten() -> None:
    return None


class SealedTokenDescriptor(DeferredAttribute):
    """``<name>_sealed``: the stored token (bytes or None); seals a pending plaintext first."""

    field: "SealedField"

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        plaintext = instance.__dict__.get(self.field.plaintext_attname)
        if plaintext is not None and plaintext.dirty:
            self.field.seal_pending(instance, plaintext.value)
        return super().__get__(instance, cls)

    def __set__(self, instance: Any, value: Any) -> None:
        token = self.field.as_stored(value)
        data = instance.__dict__
        if data.get(self.field.attname, _ABSENT) != token:
            data.pop(self.field.plaintext_attname, None)
        data[self.field.attname] = token


_ABSENT = object()


class SealedValueDescriptor:
    """``<name>``: the plaintext; decrypted lazily, once per instance."""

    def __init__(self, field: "SealedField") -> None:
        self.field = field

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        plaintext = instance.__dict__.get(self.field.plaintext_attname)
        if plaintext is not None:
            return plaintext.value
        value = self.field.open(instance, getattr(instance, self.field.attname))
        instance.__dict__[self.field.plaintext_attname] = _Plaintext(value, dirty=False)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        data = instance.__dict__
        data[self.field.plaintext_attname] = _Plaintext(
            self.field.to_plaintext(value), dirty=True
        )
        # A deferred field that is assigned counts as loaded (so save() writes it),
        # as for ordinary fields; the pending plaintext replaces this placeholder.
        data.setdefault(self.field.attname, None)


class SealedWidget(forms.Widget):
    """Shows that a value exists, never the value."""

    def render(
        self, name: str, value: Any, attrs: Any = None, renderer: Any = None
    ) -> str:
        if value in (None, b"", ""):
            return format_html('<span class="{}">—</span>', "vault-sealed")
        return format_html(
            '<span class="vault-sealed" title="{}">{}</span>',
            _("Encrypted: not shown"),
            MASK,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> None:
        return None


class SealedFormField(forms.Field):
    """Read-only form field: sealed values are changed by services, not by forms."""

    widget = SealedWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, disabled=True)
        super().__init__(**kwargs)


class SealedField(models.BinaryField):
    """Base of the sealed fields: a nullable binary column holding a vault token."""

    descriptor_class = SealedTokenDescriptor
    _forbidden = (
        "default",
        "db_default",
        "unique",
        "db_index",
        "primary_key",
        "choices",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in self._forbidden:
            if name in kwargs:
                raise TypeError(f"{type(self).__name__} does not take {name!r}")
        kwargs["null"] = True
        kwargs["editable"] = True
        super().__init__(*args, **kwargs)

    # -- names -------------------------------------------------------------------

    def get_attname(self) -> str:
        return f"{self.name}_sealed"

    def get_attname_column(self) -> tuple[str, str]:
        return self.get_attname(), self.db_column or self.name

    @property
    def plaintext_attname(self) -> str:
        """Key of the instance's plaintext in its ``__dict__``."""
        return f"_{self.name}_plaintext"

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, name, SealedValueDescriptor(self))
        if not cls._meta.abstract and cls._meta.apps is global_apps:
            registry.register(cls, self)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("null", None)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    # -- plaintext <-> token -----------------------------------------------------

    def to_plaintext(self, value: Any) -> Any:
        """Validate an assigned value; return it in its canonical Python type."""
        raise NotImplementedError

    def is_empty(self, value: Any) -> bool:
        """Whether `value` is stored as NULL."""
        return value is None

    def empty_value(self) -> Any:
        """What reading a NULL column gives."""
        return None

    def encode(self, value: Any) -> bytes:
        """Plaintext to bytes."""
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        """Bytes to plaintext."""
        raise NotImplementedError

    def context_for(self, vault_row: Any) -> str:
        """The associated data of this column's token on row `vault_row`."""
        row = (
            vault_row if isinstance(vault_row, uuid.UUID) else uuid.UUID(str(vault_row))
        )
        return f"{self.model._meta.db_table}.{self.column}.{row}"

    def seal_pending(self, instance: Any, value: Any) -> None:
        """Seal the instance's pending plaintext and store the token on it."""
        if self.is_empty(value):
            token = None
        else:
            from carnet.vault.services import seal

            token = seal(
                subject=instance.vault_subject(),
                context=self.context_for(instance.vault_row),
                plaintext=self.encode(value),
            )
        instance.__dict__[self.attname] = token
        instance.__dict__[self.plaintext_attname] = _Plaintext(value, dirty=False)

    def open(self, instance: Any, token: bytes | None) -> Any:
        """The plaintext of a stored token (raises KeyDestroyed, TokenInvalid)."""
        if token is None:
            return self.empty_value()
        from carnet.vault.services import unseal

        return self.decode(
            unseal(token=token, context=self.context_for(instance.vault_row))
        )

    def as_stored(self, value: Any) -> bytes | None:
        """`value` as stored bytes (from the database or a fixture); refuses plaintext types.

        Any bytes are accepted here, so that a damaged value does not stop its row from
        loading: reading it raises TokenInvalid.
        """
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview, bytearray)):
            return bytes(value)
        raise PlaintextRefused(
            f"{self.model.__name__}.{self.attname} holds the token (bytes); assign the"
            f" plaintext to {self.model.__name__}.{self.name}"
        )

    def as_token(self, value: Any) -> bytes | None:
        """`value` as a token to write to the database; refuses anything else (plaintext)."""
        if value is None:
            return None
        if isinstance(value, (memoryview, bytearray)):
            value = bytes(value)
        if not isinstance(value, bytes) or not looks_like_token(value):
            raise PlaintextRefused(
                f"{self.model.__name__}.{self.name} holds ciphertext only at the"
                " database layer: assign the plaintext to the instance and save() it"
                " (QuerySet.update() and filters with plaintext are refused)"
            )
        return value

    # -- database ----------------------------------------------------------------

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else bytes(value)

    def get_db_prep_value(
        self, value: Any, connection: Any, prepared: bool = False
    ) -> Any:
        if hasattr(value, "as_sql"):
            return value
        token = self.as_token(value)
        return None if token is None else connection.Database.Binary(token)

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> Any:
        if hasattr(value, "resolve_expression"):
            self._refuse_plaintext_expression(value)
        return super().get_placeholder(value, compiler, connection)

    def _refuse_plaintext_expression(self, expression: Any) -> None:
        """An UPDATE may only write tokens: literal tokens or NULL, or another sealed
        column (bulk_update's CASE … WHEN … THEN <token> is fine)."""
        if isinstance(expression, When):
            self._refuse_plaintext_expression(expression.result)
            return
        if isinstance(expression, Value):
            if not isinstance(expression._output_field_or_none, SealedField):
                self.as_token(expression.value)
            return
        if isinstance(expression, Col):
            if not isinstance(expression.target, SealedField):
                raise PlaintextRefused(
                    f"{self.model.__name__}.{self.name}: cannot copy the clear column"
                    f" {expression.target.name!r} into a sealed column"
                )
            return
        sources = [e for e in expression.get_source_expressions() if e is not None]
        if not sources:
            raise PlaintextRefused(
                f"{self.model.__name__}.{self.name}: cannot write {type(expression).__name__}"
                " to a sealed column"
            )
        for source in sources:
            self._refuse_plaintext_expression(source)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return getattr(model_instance, self.attname)

    # -- validation, forms, serialisation ----------------------------------------

    def clean(self, value: Any, model_instance: models.Model | None) -> Any:
        """Validate the plaintext held by the instance (never decrypting); keep the token."""
        plaintext = (
            None
            if model_instance is None
            else model_instance.__dict__.get(self.plaintext_attname)
        )
        if plaintext is not None:
            self.validate_plaintext(plaintext.value)
        elif value is None and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")
        return value

    def validate_plaintext(self, value: Any) -> None:
        """Field-level rules on the plaintext (blank, length)."""
        if self.is_empty(value) and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")

    def value_from_object(self, obj: models.Model) -> Any:
        if self.attname in obj.__dict__:
            return obj.__dict__[self.attname]
        return getattr(obj, self.attname)

    def formfield(self, **kwargs: Any) -> Any:
        return SealedFormField(
            label=capfirst(self.verbose_name), help_text=self.help_text
        )

    def save_form_data(self, instance: models.Model, data: Any) -> None:
        """Forms never write sealed values (their field is read-only)."""

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_vault_contract()]

    def _check_vault_contract(self) -> list[checks.CheckMessage]:
        model = self.model
        errors: list[checks.CheckMessage] = []
        try:
            row = model._meta.get_field("vault_row")
        except Exception:  # noqa: BLE001 - FieldDoesNotExist and friends
            row = None
        if not isinstance(row, models.UUIDField) or not row.unique:
            errors.append(
                checks.Error(
                    f"{model.__name__} uses a sealed field but has no unique UUIDField 'vault_row'.",
                    hint="Add vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True).",
                    obj=self,
                    id="vault.E001",
                )
            )
        if not callable(getattr(model, "vault_subject", None)):
            errors.append(
                checks.Error(
                    f"{model.__name__} uses a sealed field but has no vault_subject() method.",
                    hint='Return the owner of the data key, e.g. f"patient:{self.patient.vault_row}".',
                    obj=self,
                    id="vault.E002",
                )
            )
        return errors


class SealedTextField(SealedField):
    """Text sealed at rest (a visit reason, a note). Reads as ``str``; empty is ``""``.

    `max_length` (optional) limits the plaintext, in characters, at validation.
    """

    description = _("Encrypted text")

    def __init__(
        self, *args: Any, max_length: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = (
            max_length  # of the plaintext: set after BinaryField's validators
        )

    def to_plaintext(self, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise TypeError(
                f"{self.model.__name__}.{self.name} takes a str, not {type(value).__name__}"
            )
        return value

    def is_empty(self, value: Any) -> bool:
        return value is None or value == ""

    def empty_value(self) -> str:
        return ""

    def encode(self, value: str) -> bytes:
        return value.encode()

    def decode(self, data: bytes) -> str:
        return data.decode()

    def validate_plaintext(self, value: Any) -> None:
        super().validate_plaintext(value)
        if self.max_length is not None:
            validators.MaxLengthValidator(self.max_length)(value)


class SealedDateField(SealedField):
    """A date sealed at rest (a birth date). Reads as ``datetime.date`` or None.

    Accepts a ``date`` or an ISO ``"YYYY-MM-DD"`` string; a ``datetime`` is refused
    (it would silently lose its time and zone).
    """

    description = _("Encrypted date")

    def to_plaintext(self, value: Any) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            raise TypeError(
                f"{self.model.__name__}.{self.name} takes a date, not a datetime"
            )
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value)
        raise TypeError(
            f"{self.model.__name__}.{self.name} takes a date, not {type(value).__name__}"
        )

    def encode(self, value: date) -> bytes:
        return value.isoformat().encode()

    def decode(self, data: bytes) -> date:
        return date.fromisoformat(data.decode())
