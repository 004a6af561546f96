"""Refusals raised by the scheduling selectors and services, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from carnet.core.errors import DomainError


class AgendaNotFound(DomainError):
    """No active agenda with this id."""

    code = "agenda_not_found"
    kind = "not_found"
    message = _("This agenda does not exist or takes no booking.")


class MotiveNotFound(DomainError):
    """No active motive with this id on this agenda."""

    code = "motive_not_found"
    kind = "not_found"
    message = _("This visit motive does not exist for this agenda.")


class AgendaSettingsNotFound(DomainError):
    """Missing, or of a practice the actor is not part of: the same answer either way."""

    code = "agenda_not_found"
    kind = "not_found"
    message = _(
        "This agenda does not exist or you are not part of its practice's team."
    )


class SettingsForbidden(DomainError):
    """The actor's role at the practice may not change this part of the settings."""

    code = "settings_forbidden"
    kind = "forbidden"
    message = _(
        "Only practitioners and practice administrators can change opening hours, "
        "visit motives and calendar feeds."
    )


class OpeningRuleNotFound(DomainError):
    """No opening rule with this id at a practice the actor is part of."""

    code = "opening_rule_not_found"
    kind = "not_found"
    message = _("These opening hours do not exist.")


class AbsenceNotFound(DomainError):
    """No absence with this id at a practice the actor is part of."""

    code = "absence_not_found"
    kind = "not_found"
    message = _("This absence does not exist.")


class FeedNotFound(DomainError):
    """No calendar feed with this id at a practice the actor is part of."""

    code = "feed_not_found"
    kind = "not_found"
    message = _("This calendar feed does not exist.")


class WeekdayInvalid(DomainError):
    """A weekday outside Monday (0) to Sunday (6)."""

    code = "weekday_invalid"
    message = _("Choose a day of the week.")


class OpeningHoursInvalid(DomainError):
    """Closing time not after opening time (a window never crosses midnight)."""

    code = "opening_hours_invalid"
    message = _("The closing time must be after the opening time, on the same day.")


class ValidityInvalid(DomainError):
    """The last day of validity is before the first."""

    code = "validity_invalid"
    message = _("The last day of validity must not be before the first.")


class OpeningRulesOverlap(DomainError):
    """Two rules open the same motive at the same time on the same day."""

    code = "opening_rules_overlap"
    kind = "conflict"
    message = _(
        "These hours overlap the opening hours {opens}–{closes} of the same day "
        "for the same visit motives. Change one of them."
    )


class MotiveNameInvalid(DomainError):
    """A motive needs a name of at most 120 characters."""

    code = "motive_name_invalid"
    message = _("Enter a name for the visit motive (120 characters at most).")


class MotiveDurationInvalid(DomainError):
    """Durations go from 5 minutes to 8 hours, in steps of 5 minutes."""

    code = "motive_duration_invalid"
    message = _(
        "The duration must be between 5 and 480 minutes, in steps of 5 minutes."
    )


class ChannelInvalid(DomainError):
    """A channel outside in person, video and phone."""

    code = "channel_invalid"
    message = _("Choose in person, video or phone.")


class NoticeInvalid(DomainError):
    """Minimum notice from 0 minutes to 30 days."""

    code = "notice_invalid"
    message = _("The minimum notice must be between 0 minutes and 30 days.")


class HorizonInvalid(DomainError):
    """Booking horizon from 1 day to 2 years."""

    code = "horizon_invalid"
    message = _("Patients can book from 1 to 730 days ahead.")


class CancellationCutoffInvalid(DomainError):
    """Cancellation cut-off from 0 hours to 30 days."""

    code = "cancellation_cutoff_invalid"
    message = _("The cancellation limit must be between 0 and 720 hours before.")


class ColourInvalid(DomainError):
    """A colour that is not #RRGGBB."""

    code = "colour_invalid"
    message = _("Choose a colour written as #RRGGBB, for example #3D7EAA.")


class PriceInvalid(DomainError):
    """A negative price, more than two decimals, or an absurd amount."""

    code = "price_invalid"
    message = _(
        "Enter a price between 0 and 100000 with at most two decimals, or leave it empty."
    )


class CurrencyInvalid(DomainError):
    """Prices are in euros."""

    code = "currency_invalid"
    message = _("Prices are in euros (EUR).")


class BookingQuestionsInvalid(DomainError):
    """Up to 10 distinct questions, each with a label of 1 to 200 characters."""

    code = "booking_questions_invalid"
    message = _(
        "Ask at most 10 different questions, each of 1 to 200 characters, "
        "and say whether an answer is required."
    )


class AbsencePeriodInvalid(DomainError):
    """An absence must end after it starts, both with a UTC offset."""

    code = "absence_period_invalid"
    message = _("The end of the absence must be after its start.")


class AbsenceLabelInvalid(DomainError):
    """Absence labels are at most 120 characters."""

    code = "absence_label_invalid"
    message = _("The label of an absence is at most 120 characters long.")


class HolidayCountryUnsupported(DomainError):
    """Public holidays are known for France, Germany and Italy."""

    code = "holiday_country_unsupported"
    message = _("Public holidays are available for France, Germany and Italy.")


class HolidaySubdivisionUnknown(DomainError):
    """A region code the holidays calendar does not know for this country."""

    code = "holiday_subdivision_unknown"
    message = _("This region is unknown for this country: {subdivision}.")


class HolidayYearInvalid(DomainError):
    """Holidays are applied for years 2000 to 2100."""

    code = "holiday_year_invalid"
    message = _("Choose a year between 2000 and 2100.")
