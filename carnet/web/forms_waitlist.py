"""Forms of the patient's no-show and waiting list pages: input shape only; services judge."""

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carnet.accounts.models import Patient
from carnet.booking.models import EXCUSE_MAX_LENGTH
from carnet.scheduling.models import VisitMotive

SELF = "self"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExcuseForm(forms.Form):
    """A patient's excuse for one missed appointment, read by the practice."""

    text = forms.CharField(
        label=_("Your excuse for the practice"),
        max_length=EXCUSE_MAX_LENGTH,
        help_text=_(
            "Say briefly why the appointment was missed. The practice reads it; "
            "please do not write medical details here."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, strike_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"strike-{strike_id}")
        super().__init__(*args, **kwargs)


class JoinWaitingListForm(forms.Form):
    """Who waits, for which visit, between which days."""

    patient = forms.ChoiceField(label=_("For whom?"), widget=forms.RadioSelect)
    motive = forms.TypedChoiceField(label=_("Reason for the visit"), coerce=int)
    earliest_on = forms.DateField(label=_("From"), widget=_date_widget())
    latest_on = forms.DateField(
        label=_("Until"),
        widget=_date_widget(),
        help_text=_("You will be told if an earlier time frees up between these days."),
    )

    def __init__(
        self,
        *args: Any,
        patients: list[Patient],
        motives: list[VisitMotive],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = []
        for patient in patients:
            if patient.account_id is not None:
                label = _("Me ({name})").format(name=patient)
                choices.insert(0, (SELF, label))
            else:
                choices.append((str(patient.pk), str(patient)))
        self.fields["patient"].choices = choices
        if choices:
            self.fields["patient"].initial = choices[0][0]
        self.fields["motive"].choices = [(m.pk, m.name) for m in motives]

    def patient_id(self) -> int | None:
        """The chosen relative's id, or None for the user's own profile."""
        value = self.cleaned_data["patient"]
        return None if value == SELF else int(value)

    def dates(self) -> tuple[date, date]:
        return self.cleaned_data["earliest_on"], self.cleaned_data["latest_on"]
