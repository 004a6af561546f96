"""Forms of the waiting list and no-show pages: the shape of the input; services judge."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carnet.booking.policy import MAX_STRIKE_EXPIRY_DAYS, MAX_STRIKES_TO_BLOCK


class AgendaFilterForm(forms.Form):
    """Which agenda's waiting list to show (all by default)."""

    agenda = forms.TypedChoiceField(
        label=_("Agenda"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, agendas: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agenda"].choices = [("", _("All agendas"))] + [
            (agenda.pk, str(agenda)) for agenda in agendas
        ]


class NoShowPolicyForm(forms.Form):
    """The practice's no-show policy."""

    enabled = forms.BooleanField(
        label=_("Count no-shows"),
        required=False,
        help_text=_("When off, no-shows are no longer counted and nobody is blocked."),
    )
    strikes_to_block = forms.IntegerField(
        label=_("Missed appointments before online booking is blocked"),
        min_value=1,
        max_value=MAX_STRIKES_TO_BLOCK,
        help_text=_("Patients can still book by calling the practice."),
    )
    strike_expiry_days = forms.IntegerField(
        label=_("Days during which a missed appointment counts"),
        min_value=1,
        max_value=MAX_STRIKE_EXPIRY_DAYS,
        help_text=_("Applies to missed appointments recorded from now on."),
    )


class DecisionForm(forms.Form):
    """Accept (the strike stops counting) or refuse a patient's excuse."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("refuse", _("Refuse"))],
    )

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == "accept"
