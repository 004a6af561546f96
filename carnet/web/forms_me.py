"""Forms of the patient area: they check the shape of the input, services the rules."""

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.accounts.models import Patient, ReminderOffset, User

PHONE_COUNTRIES = [
    ("FR", _("France (+33)")),
    ("DE", _("Germany (+49)")),
    ("IT", _("Italy (+39)")),
]

RELATIONSHIPS = [
    (value, label)
    for value, label in Patient.Relationship.choices
    if value != Patient.Relationship.SELF
]

# Stored as the appointment's cancellation reason ("<code>" or "<code>: <details>"),
# so that practices can read it in their own language.
CANCEL_REASONS = [
    ("unavailable", _("I can no longer come at this time")),
    ("not_needed", _("I no longer need this appointment")),
    ("elsewhere", _("I found another appointment")),
    ("other", pgettext_lazy("cancellation reason", "Another reason")),
]


def _date_widget(autocomplete: str = "off") -> forms.DateInput:
    return forms.DateInput(
        attrs={"type": "date", "autocomplete": autocomplete}, format="%Y-%m-%d"
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=_date_widget("bday")
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        required=False,
        help_text=_("For example 06 12 34 56 78, or +33 6 12 34 56 78."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    country = forms.ChoiceField(
        label=_("Country of this phone number"),
        choices=PHONE_COUNTRIES,
        initial="FR",
        help_text=_("Used when the number does not start with + and a country code."),
    )
    email = forms.EmailField(
        label=_("Contact e-mail"),
        required=False,
        help_text=_(
            "Where practices may write to you. The e-mail you log in with is "
            "managed on the security page."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class RelativeForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    relationship = forms.ChoiceField(
        label=_("This person is your…"), choices=RELATIONSHIPS
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=_date_widget()
    )


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you cancel?"),
        choices=CANCEL_REASONS,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("A word for the practice (optional)"),
        max_length=200,
        required=False,
        help_text=_("The practice reads it. Please do not write medical details here."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_text(self) -> str:
        reason = self.cleaned_data["reason"]
        details = " ".join(self.cleaned_data["details"].split())
        return f"{reason}: {details}" if details else reason


class RescheduleForm(forms.Form):
    start = forms.CharField(max_length=40, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            start = datetime.fromisoformat(cleaned.get("start") or "")
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise forms.ValidationError(
                _("Choose one of the free times shown."), code="invalid"
            )
        cleaned["start"] = start
        return cleaned


class NotificationsForm(forms.Form):
    email_reminders = forms.BooleanField(label=_("Remind me by e-mail"), required=False)
    sms_reminders = forms.BooleanField(
        label=_("Remind me by SMS"),
        required=False,
        help_text=_("Sent to the mobile phone number of your profile."),
    )
    reminder_offsets = forms.TypedMultipleChoiceField(
        label=_("When"),
        choices=ReminderOffset.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."), required=True
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("This password is not correct."), code="password_incorrect"
            )
        return password
