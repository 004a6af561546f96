"""Refusals raised by the records services, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class NoteTextInvalid(DomainError):
    """A note needs some text, and at most NOTE_MAX_LENGTH characters."""

    code = "note_text_invalid"
    message = _("Write the note (at most {max_length} characters).")


class NoteNotFound(DomainError):
    """No such note at this practice: the same answer for another practice's."""

    code = "note_not_found"
    kind = "not_found"
    message = _("This note does not exist.")


class NoteNotEditable(DomainError):
    """Only the author of a note may correct it."""

    code = "note_not_editable"
    kind = "forbidden"
    message = _(
        "Only the author of a note can correct it. Write a new note to add to it."
    )


class FlagKindInvalid(DomainError):
    """A flag is an allergy, a medical alert, reduced mobility, interpreter or other."""

    code = "flag_kind_invalid"
    message = _("Choose what kind of flag this is.")


class FlagLabelInvalid(DomainError):
    """A flag needs a short label."""

    code = "flag_label_invalid"
    message = _("Describe the flag in a few words ({max_length} characters at most).")


class FlagNotFound(DomainError):
    """No such flag at this practice (or one the actor may not see)."""

    code = "flag_not_found"
    kind = "not_found"
    message = _("This flag does not exist.")
