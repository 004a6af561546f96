"""Forms of the public pages: the search form."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.accounts.models import Patient
from carnet.booking.answers import MAX_ANSWER_LENGTH
from carnet.directory.models import FeeSector

LANGUAGES = [
    ("", _("Any language")),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("it", "Italiano"),
    ("en", "English"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("pt", "Português"),
    ("tr", "Türkçe"),
]
WITHIN = [
    ("", _("Any time")),
    ("1", _("Today or tomorrow")),
    ("3", _("Within 3 days")),
    ("7", _("Within a week")),
    ("14", _("Within two weeks")),
]
SORTS = [
    ("relevance", pgettext_lazy("sort", "Best match")),
    ("earliest", pgettext_lazy("sort", "Earliest availability")),
    ("distance", pgettext_lazy("sort", "Distance")),
]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Specialty, practitioner or practice"),
        max_length=120,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("e.g. pédiatre, Dr Martin"),
            }
        ),
    )
    place = forms.CharField(
        label=_("City or postcode"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    lat = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    lon = forms.FloatField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput
    )
    video = forms.BooleanField(label=_("Video consultation"), required=False)
    new_patients = forms.BooleanField(label=_("Accepts new patients"), required=False)
    language = forms.ChoiceField(
        label=_("Spoken language"), choices=LANGUAGES, required=False
    )
    fee_sector = forms.ChoiceField(label=_("Fees"), required=False, choices=[])
    within = forms.TypedChoiceField(
        label=_("Available"),
        choices=WITHIN,
        required=False,
        coerce=int,
        empty_value=None,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), choices=SORTS, required=False, initial="relevance"
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=500, widget=forms.HiddenInput
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fee_sector"].choices = [
            ("", _("Any")),
            *FeeSector.choices,
        ]

    def has_criteria(self) -> bool:
        """Whether the patient asked for something (else the page shows the form only)."""
        data = self.cleaned_data
        return bool(data.get("q") or data.get("place") or data.get("lat") is not None)


RELATIONSHIPS = [
    (value, label)
    for value, label in Patient.Relationship.choices
    if value != Patient.Relationship.SELF
]


class BookingDetailsForm(forms.Form):
    """For whom, and an optional reason: the last step before confirming.

    `relatives` are the patients the user may book for (their own profile
    first when it exists); when the user has no profile yet, booking "for me"
    asks for the few details a practice needs.
    """

    for_whom = forms.ChoiceField(
        label=_("For whom is this appointment?"), widget=forms.RadioSelect
    )
    first_name = forms.CharField(
        label=_("Your first name"), max_length=150, required=False
    )
    last_name = forms.CharField(
        label=_("Your last name"), max_length=150, required=False
    )
    birth_date = forms.DateField(
        label=_("Your date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(
        label=_("Your mobile phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    relative_first_name = forms.CharField(
        label=_("Their first name"), max_length=150, required=False
    )
    relative_last_name = forms.CharField(
        label=_("Their last name"), max_length=150, required=False
    )
    relative_birth_date = forms.DateField(
        label=_("Their date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    relationship = forms.ChoiceField(
        label=_("They are your"), choices=RELATIONSHIPS, required=False
    )
    reason = forms.CharField(
        label=_("Reason for the visit (optional)"),
        help_text=_(
            "Encrypted: only the practice can read it. Leave it empty if you prefer to tell them in person."
        ),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: object,
        patients: list[Patient],
        has_profile: bool,
        questions: list[dict] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.has_profile = has_profile
        # The motive's booking questions, one field each (answer_0, answer_1...).
        self.questions = list(questions or [])
        for index, question in enumerate(self.questions):
            self.fields[f"answer_{index}"] = forms.CharField(
                label=question["label"],
                required=bool(question.get("required")),
                max_length=MAX_ANSWER_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.patients = {str(p.pk): p for p in patients}
        choices = []
        if not has_profile:
            choices.append(("self", _("Me")))
        for patient in patients:
            label = (
                _("Me")
                if patient.relationship == Patient.Relationship.SELF
                else str(patient)
            )
            choices.append((str(patient.pk), label))
        choices.append(("new", _("Someone else (a child, a relative…)")))
        self.fields["for_whom"].choices = choices
        self.fields["for_whom"].initial = choices[0][0]

    def clean(self) -> dict:
        data = super().clean()
        who = data.get("for_whom")
        required = []
        if who == "self" or (who == "new" and not self.has_profile):
            required += ["first_name", "last_name", "birth_date"]
        if who == "new":
            required += ["relative_first_name", "relative_last_name", "relationship"]
        for name in required:
            if not data.get(name):
                self.add_error(name, _("This field is required."))
        return data

    def answer_fields(self) -> list[forms.BoundField]:
        """The booking questions' fields, in the motive's order."""
        return [self[f"answer_{index}"] for index in range(len(self.questions))]

    def answers(self) -> dict[str, str]:
        """The answers given, by question label (for book_appointment)."""
        return {
            question["label"]: self.cleaned_data.get(f"answer_{index}", "")
            for index, question in enumerate(self.questions)
        }

    def chosen_patient(self) -> Patient | None:
        """The existing patient chosen, or None for "me" (new profile) or a new relative."""
        return self.patients.get(self.cleaned_data["for_whom"])
