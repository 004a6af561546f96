"""Forms of the patient pages: search, break-glass reason, notes and flags."""

from django import forms
from django.utils.translation import gettext_lazy as _

from carnet.accounts.roles import Permission
from carnet.audit.models import AuditEvent
from carnet.records.models import (
    CLINICAL_FLAG_KINDS,
    FLAG_LABEL_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PatientFlag,
)

REASON_MAX_LENGTH = AuditEvent._meta.get_field("reason").max_length or 500


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone number (exact)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail address (exact)"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100000, widget=forms.HiddenInput
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this file now?"),
        max_length=REASON_MAX_LENGTH,
        help_text=_(
            "This patient has no appointment at this practice. Your access and its "
            "reason are recorded, flagged for review and shown to the patient."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("State the reason for this access."))
        return reason


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


def flag_kinds_for(permissions: frozenset[Permission]) -> list[tuple[str, str]]:
    """The kinds of flag these permissions may add (see records.services.add_flag)."""
    kinds = []
    for value, label in PatientFlag.Kind.choices:
        clinical = value in CLINICAL_FLAG_KINDS
        needed = (
            Permission.WRITE_CLINICAL_NOTES
            if clinical
            else Permission.MANAGE_APPOINTMENTS
        )
        if needed in permissions:
            kinds.append((value, label))
    return kinds


class FlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PatientFlag.Kind.choices)
    label = forms.CharField(
        label=_("What the team must know"), max_length=FLAG_LABEL_MAX_LENGTH
    )

    def __init__(self, *args, permissions: frozenset[Permission], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Offered: the kinds this role may add. Accepted: any kind, so that a
        # role without the right gets the service's refusal (403), not a form error.
        self.fields["kind"].widget.choices = flag_kinds_for(permissions)
