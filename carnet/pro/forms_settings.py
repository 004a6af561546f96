"""Forms of the practice settings pages: they parse input; the services decide.

Each form only turns what was typed into the values a scheduling service
takes; the rules (hours that do not overlap, durations by 5 minutes, prices
with two decimals...) are the services'. A refusal of a service is put back
on the form next to the field it concerns with `add_service_error`.
"""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError
from carnet.scheduling.models import Currency, OpeningRule, VisitMotive
from carnet.scheduling.preview import RuleDraft
from carnet.scheduling.services import MAX_BOOKING_QUESTIONS, MAX_QUESTION_LENGTH

# Which field a service's refusal is shown on (by the error's code); codes not
# listed go above the form.
ERROR_FIELDS = {
    "weekday_invalid": "weekday",
    "opening_hours_invalid": "closes",
    "validity_invalid": "valid_until",
    "opening_rules_overlap": "opens",
    "motive_not_found": "motives",
    "motive_name_invalid": "name",
    "motive_duration_invalid": "duration_minutes",
    "channel_invalid": "channel",
    "notice_invalid": "min_notice_minutes",
    "horizon_invalid": "horizon_days",
    "cancellation_cutoff_invalid": "cancellation_cutoff_hours",
    "colour_invalid": "colour",
    "price_invalid": "price",
    "currency_invalid": "currency",
    "booking_questions_invalid": None,
    "absence_period_invalid": "ends",
    "absence_label_invalid": "label",
    "holiday_subdivision_unknown": "subdivision",
    "holiday_country_unsupported": None,
    "holiday_year_invalid": "year",
}


def add_service_error(form: forms.Form, error: DomainError) -> bool:
    """Show a service's refusal of the input on `form`; False if it is another refusal."""
    if error.code not in ERROR_FIELDS:
        return False
    field = ERROR_FIELDS[error.code]
    if field is not None and field not in form.fields:
        field = None
    form.add_error(field, error.render())
    return True


def monday_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


class TimeInput(forms.TimeInput):
    """A native time picker (HH:MM)."""

    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


class DateInput(forms.DateInput):
    """A native date picker (YYYY-MM-DD)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class LocalDateTimeInput(forms.DateTimeInput):
    """A native date and time picker, read in the agenda's zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class OpeningRuleForm(forms.Form):
    """One weekly opening rule of an agenda, and the week its preview shows."""

    weekday = forms.TypedChoiceField(
        label=_("Day of the week"), choices=OpeningRule.Weekday.choices, coerce=int
    )
    opens = forms.TimeField(label=_("Opens at"), widget=TimeInput())
    closes = forms.TimeField(label=_("Closes at"), widget=TimeInput())
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for no first day."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("The last day included. Leave empty for no end."),
    )
    motives = forms.TypedMultipleChoiceField(
        label=_("Visit motives"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none to open these hours to every visit motive."),
    )
    week = forms.DateField(
        label=_("Week shown in the preview"),
        required=False,
        widget=DateInput(),
        help_text=_("Any day of the week to preview."),
    )

    def __init__(self, *args: Any, motives: list[VisitMotive], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["motives"].choices = [
            (
                motive.pk,
                motive.name
                if motive.is_active
                else _("{name} (not offered)").format(name=motive.name),
            )
            for motive in motives
        ]

    @classmethod
    def initial_for(cls, rule: OpeningRule, week: date) -> dict[str, Any]:
        """The form's initial values for a saved rule."""
        return {
            "weekday": rule.weekday,
            "opens": rule.opens_time,
            "closes": rule.closes_time,
            "valid_from": rule.valid_on,
            "valid_until": rule.valid_until_on,
            "motives": [motive.pk for motive in rule.motives.all()],
            "week": week,
        }

    def draft(self) -> RuleDraft:
        """The rule as typed (call after is_valid)."""
        data = self.cleaned_data
        return RuleDraft(
            weekday=data["weekday"],
            opens=data["opens"],
            closes=data["closes"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            motive_ids=frozenset(data["motives"]),
        )

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments of create_opening_rule / update_opening_rule."""
        data = self.cleaned_data
        return {
            "weekday": data["weekday"],
            "opens_time": data["opens"],
            "closes_time": data["closes"],
            "valid_on": data["valid_from"],
            "valid_until_on": data["valid_until"],
            "motive_ids": list(data["motives"]),
        }


def _number(low: int, high: int, step: int = 1) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high, "step": step})


SWITCH_ON = frozenset({"on", "true", "1"})
SWITCH_OFF = frozenset({"", "off", "false", "0"})


def _switched_on(value: Any) -> bool:
    return value is True or str(value).strip().lower() in SWITCH_ON


class SwitchInput(forms.CheckboxInput):
    """A checkbox whose posted value reaches its field as sent (SwitchField checks it)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, check_test=_switched_on)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name) if name in data else None


class SwitchField(forms.Field):
    """An on/off checkbox: unticked is off; a value no checkbox sends is refused.

    Django's BooleanField takes any text ("maybe", "2") for "on"; a switch
    that turns reminders off must not be turned on by nonsense.
    """

    widget = SwitchInput
    default_error_messages = {
        "invalid": _("Tick the box or leave it empty."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool:
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in SWITCH_ON:
            return True
        if text in SWITCH_OFF:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != bool(initial)
        except ValidationError:
            return True


class PracticeRemindersForm(forms.Form):
    """The channels the practice's reminders may use; each patient chooses among them."""

    email_reminders_enabled = SwitchField(
        label=_("Reminders by e-mail"),
        help_text=_("Patients who chose e-mail get their reminders by e-mail."),
    )
    sms_reminders_enabled = SwitchField(
        label=_("Reminders by SMS"),
        help_text=_(
            "Patients who chose SMS and gave a mobile number get their reminders "
            "by SMS."
        ),
    )

    @classmethod
    def initial_for(cls, practice: Any) -> dict[str, Any]:
        """The form's initial values: the practice's saved switches."""
        return {
            "email_reminders_enabled": practice.email_reminders_enabled,
            "sms_reminders_enabled": practice.sms_reminders_enabled,
        }


class MotiveForm(forms.Form):
    """A visit motive: what patients book, its booking rules, price and questions."""

    name = forms.CharField(label=_("Name"), max_length=120)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        widget=_number(5, 480, 5),
        help_text=_("From 5 to 480 minutes, in steps of 5."),
    )
    channel = forms.ChoiceField(
        label=_("How the visit takes place"), choices=VisitMotive.Channel.choices
    )
    open_to_new_patients = forms.BooleanField(
        label=_("Open to new patients"), required=False
    )
    min_notice_minutes = forms.IntegerField(
        label=_("Minimum notice (minutes)"),
        widget=_number(0, 43_200),
        help_text=_("How long before the visit patients can still book it online."),
    )
    horizon_days = forms.IntegerField(
        label=_("Booking horizon (days)"),
        widget=_number(1, 730),
        help_text=_("How many days ahead patients can book."),
    )
    cancellation_cutoff_hours = forms.IntegerField(
        label=_("Cancellation limit (hours)"),
        widget=_number(0, 720),
        help_text=_("Patients can cancel or move online until this many hours before."),
    )
    price = forms.CharField(
        label=_("Price"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Shown to patients, e.g. 30 or 26.50. Leave empty for no price."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    colour = forms.CharField(
        label=_("Colour in the agenda"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    reminders_enabled = SwitchField(
        label=_("Send reminders for this motive"),
        help_text=_(
            "Untick where a reminder would itself reveal too much about the "
            "visit, or makes no sense (e.g. a visit booked for the same day)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(1, MAX_BOOKING_QUESTIONS + 1):
            self.fields[f"question_{index}"] = forms.CharField(
                label=_question_label(index),
                required=False,
                max_length=MAX_QUESTION_LENGTH,
            )
            self.fields[f"question_{index}_required"] = forms.BooleanField(
                label=_question_required_label(index), required=False
            )

    @classmethod
    def initial_for(cls, motive: VisitMotive) -> dict[str, Any]:
        """The form's initial values for a saved motive."""
        initial: dict[str, Any] = {
            "name": motive.name,
            "duration_minutes": motive.duration_minutes,
            "channel": motive.channel,
            "open_to_new_patients": motive.open_to_new_patients,
            "min_notice_minutes": motive.min_notice_minutes,
            "horizon_days": motive.horizon_days,
            "cancellation_cutoff_hours": motive.cancellation_cutoff_hours,
            "price": "" if motive.price is None else f"{motive.price:.2f}",
            "currency": motive.currency,
            "colour": motive.colour,
            "reminders_enabled": motive.reminders_enabled,
        }
        for index, question in enumerate(motive.booking_questions or [], start=1):
            initial[f"question_{index}"] = question.get("label", "")
            initial[f"question_{index}_required"] = bool(question.get("required"))
        return initial

    def question_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """The question rows to show: those filled in and two empty ones (at least three)."""
        filled = 0
        for index in range(1, MAX_BOOKING_QUESTIONS + 1):
            value = (
                self.data.get(self.add_prefix(f"question_{index}"))
                if self.is_bound
                else self.initial.get(f"question_{index}")
            )
            if value:
                filled = index
        shown = min(MAX_BOOKING_QUESTIONS, max(filled + 2, 3))
        return [
            (self[f"question_{index}"], self[f"question_{index}_required"])
            for index in range(1, shown + 1)
        ]

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments of create_motive / update_motive (call after is_valid).

        Without `reminders_enabled`: carnet.pro.reminder_settings takes it
        apart (see its create_motive / update_motive).
        """
        data = self.cleaned_data
        questions = []
        for index in range(1, MAX_BOOKING_QUESTIONS + 1):
            label = data.get(f"question_{index}") or ""
            if label.strip():
                questions.append(
                    {
                        "label": label,
                        "required": bool(data.get(f"question_{index}_required")),
                    }
                )
        # The service checks the amount; a decimal comma is a decimal point.
        price = data["price"].strip().replace(",", ".") or None
        return {
            "name": data["name"],
            "duration_minutes": data["duration_minutes"],
            "channel": data["channel"],
            "open_to_new_patients": data["open_to_new_patients"],
            "min_notice_minutes": data["min_notice_minutes"],
            "horizon_days": data["horizon_days"],
            "cancellation_cutoff_hours": data["cancellation_cutoff_hours"],
            "price": price,
            "currency": data["currency"],
            "colour": data["colour"],
            "booking_questions": questions,
        }


def _question_label(index: int) -> str:
    return str(_("Question {number}")).format(number=index)


def _question_required_label(index: int) -> str:
    return str(_("An answer to question {number} is required")).format(number=index)


class AbsenceForm(forms.Form):
    """An absence: from and until (local date and time in the agenda's zone), a label."""

    starts = forms.DateTimeField(label=_("From"), widget=LocalDateTimeInput())
    ends = forms.DateTimeField(label=_("Until"), widget=LocalDateTimeInput())
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=120,
        help_text=_("For the team, e.g. “Training”. Patients do not see it."),
    )


class RegionForm(forms.Form):
    """The region whose public holidays apply to the agenda, besides the national ones."""

    subdivision = forms.ChoiceField(label=_("Region"), required=False)

    def __init__(
        self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subdivision"].choices = [
            ("", _("National public holidays only")),
            *regions,
        ]


class HolidaysYearForm(forms.Form):
    """The year whose public holidays to apply as absences."""

    year = forms.IntegerField(label=_("Year"), widget=forms.HiddenInput)


class FeedForm(forms.Form):
    """A new calendar feed URL of an agenda."""

    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=100,
        help_text=_("To recognise it later, e.g. “Dr Martin's phone”."),
    )
    show_patient_names = forms.BooleanField(
        label=_("Show patients' names in the calendar"),
        required=False,
        help_text=_(
            "Off: each appointment shows as “Appointment” only. Whoever has the "
            "link sees what the feed shows."
        ),
    )
