"""Forms of the agenda pages: find or register a caller, book, move, cancel, run late."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carnet.accounts import staff_patients
from carnet.booking.models import RUNNING_LATE_MAX_MINUTES
from carnet.scheduling.models import VisitMotive


class PatientSearchForm(forms.Form):
    """Find the caller: every criterion given must match."""

    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=150)
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=gettext_lazy("E-mail"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class BookingForm(forms.Form):
    """The appointment: motive, local date and time, patient, and deliberate overbooking."""

    motive = forms.TypedChoiceField(label=gettext_lazy("Visit motive"), coerce=int)
    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time", "step": "300"}, format="%H:%M"),
    )
    patient = forms.ChoiceField(
        label=gettext_lazy("Patient"),
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Search for the patient and choose them."),
            "invalid_choice": gettext_lazy("Choose the patient again."),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the visit"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Seen by the practice only."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    overbook = forms.BooleanField(
        label=gettext_lazy("Overbook: book even if this time is taken"),
        required=False,
        help_text=gettext_lazy(
            "The appointment is flagged as overbooked in the agenda."
        ),
    )

    def __init__(
        self,
        *args: Any,
        motives: list[VisitMotive],
        patients: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for motive in motives:
            groups.setdefault(str(motive.agenda), []).append(
                (
                    motive.pk,
                    _("%(name)s (%(minutes)s min)")
                    % {"name": motive.name, "minutes": motive.duration_minutes},
                )
            )
        self.fields["motive"].choices = list(groups.items())
        self.fields["patient"].choices = patients


class NewPatientForm(forms.Form):
    """A caller who is not yet a patient: identity and a way to reach them."""

    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150)
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=gettext_lazy("E-mail"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
    )
    motive = forms.CharField(required=False, widget=forms.HiddenInput)
    date = forms.CharField(required=False, widget=forms.HiddenInput)
    time = forms.CharField(required=False, widget=forms.HiddenInput)

    error_fields = {
        staff_patients.PatientIdentityInvalid: "last_name",
        staff_patients.PatientBirthDateInvalid: "birth_date",
        staff_patients.PatientEmailInvalid: "email",
        staff_patients.PatientContactRequired: "phone",
    }


class MoveForm(forms.Form):
    """The new local date and time (same agenda, same motive)."""

    date = forms.DateField(
        label=gettext_lazy("New date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.TimeField(
        label=gettext_lazy("New time"),
        widget=forms.TimeInput(attrs={"type": "time", "step": "300"}, format="%H:%M"),
    )
    overbook = forms.BooleanField(
        label=gettext_lazy("Overbook: move even if this time is taken"),
        required=False,
    )
    notify = forms.BooleanField(
        label=gettext_lazy("Tell the patient"), required=False, initial=True
    )


class CancelForm(forms.Form):
    """Why the appointment is cancelled (the patient is told)."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the cancellation"),
        max_length=255,
        help_text=gettext_lazy("Given to the patient when they are told."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notify = forms.BooleanField(
        label=gettext_lazy("Tell the patient"), required=False, initial=True
    )


class RunningLateForm(forms.Form):
    """How late the agenda runs today."""

    minutes = forms.IntegerField(
        label=gettext_lazy("Running late by (minutes)"),
        min_value=1,
        max_value=RUNNING_LATE_MAX_MINUTES,
    )
