"""Shared parameter types of the API."""

from typing import Annotated

from pydantic import Field

# A database id: positive and within a 64-bit integer, so that an absurd
# number gets a 422 instead of overflowing the database driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
