"""Shared parameter types of the API."""

from typing import Annotated

from django.core.validators import ProhibitNullCharactersValidator
from ninja import Schema
from pydantic import Field, field_validator

# A database id: positive and within a 64-bit integer, so that an absurd
# number gets a 422 instead of overflowing the database driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class InputSchema(Schema):
    """The base of every API input (query or body): no text may hold a NUL character.

    PostgreSQL refuses a NUL inside a string literal, and no name, code,
    reason or place has one; Django's forms refuse them too
    (ProhibitNullCharactersValidator). A NUL is a 422 on the field, never a 500.
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            # Django's own message, in Django's own catalogues.
            raise ValueError(str(ProhibitNullCharactersValidator.message))
        return value
