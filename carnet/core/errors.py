"""Domain errors: a stable machine code, an HTTP-agnostic kind and a translated message."""

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every business-rule refusal raised by a service or selector.

    `code` is stable (clients and tests rely on it); `message` is translated
    lazily, so it renders in the language active where it is displayed.
    `kind` tells interfaces how to present it: "conflict", "invalid",
    "not_found", "forbidden".
    """

    code: ClassVar[str] = "error"
    kind: ClassVar[str] = "invalid"
    message: Promise | str = _("The request could not be processed.")

    def __init__(self, message: Promise | str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.code)

    def render(self) -> str:
        """The translated message, formatted with its parameters."""
        return str(self.message).format(**self.params)

    @property
    def details(self) -> dict[str, Any]:
        """Extra machine-readable members for the error document (none by default)."""
        return {}


class NotFound(DomainError):
    """Missing or not yours: the same answer, so that identifiers cannot be probed."""

    code = "not_found"
    kind = "not_found"
    message = _("Not found.")
