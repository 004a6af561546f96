"""`{% load carnet %}`: dates, times and phone numbers as people read them where they are.

Appointments are stored as UTC instants; every agenda has an IANA time zone. These
filters show an instant in the zone given (the practice's), in the active language:

* ``{{ dt|local_datetime:zone }}`` → fr « mardi 3 mars 2026 à 09:20 »,
  de « Dienstag, 3. März 2026, 09:20 », it « martedì 3 marzo 2026, 09:20 »,
  en « Tuesday 3 March 2026, 09:20 »;
* ``{{ dt|local_date:zone }}`` (the date alone), ``{{ dt|local_time:zone }}`` (« 09:20 »),
  ``{{ dt|local_short_date:zone }}`` (fr « mar. 3 mars », de « Di., 3. März »);
* ``{% slot_label dt zone %}``: the content of a slot button: the time, visible, inside
  ``<time datetime>``, followed by the full date for screen readers (a slot button is
  announced on its own); ``show_day=True`` shows the short date too;
* ``{% form_field form.email %}``: one form field as a ``.form-field`` (label, help,
  errors tied to the control with aria-describedby, aria-invalid), a ``<fieldset>`` for
  radio buttons and checkbox lists; ``{% form_fields form %}``: the whole form (errors
  not tied to a field first, then hidden and visible fields);
* ``{{ phone|phone_local }}``: an E.164 number (``+33123456789``) in its country's national
  format (« 01 23 45 67 89 »); ``{{ phone|phone_local:"FR" }}`` shows numbers of other
  countries in international format (« +49 30 1234567 »).

`zone` is an IANA name ("Europe/Paris") or a ZoneInfo; empty means the current time zone.
A value that is not a datetime (None, "") gives "". Formats are per language below,
written with Django's date format characters; Django translates the day and month names.
"""

from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django import template
from django.forms import BaseForm, BoundField, CheckboxInput
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()

# Django date format characters; a backslash escapes a letter that is not one.
FORMATS: dict[str, dict[str, str]] = {
    "fr": {
        "datetime": r"l j F Y \à H:i",
        "date": "l j F Y",
        "short_date": "D j F",
        "compact_date": "D j N",
        "time": "H:i",
    },
    "de": {
        "datetime": "l, j. F Y, H:i",
        "date": "l, j. F Y",
        "short_date": "D, j. F",
        "compact_date": "D, j. N",
        "time": "H:i",
    },
    "it": {
        "datetime": "l j F Y, H:i",
        "date": "l j F Y",
        "short_date": "D j F",
        "compact_date": "D j N",
        "time": "H:i",
    },
    "en": {
        "datetime": "l j F Y, H:i",
        "date": "l j F Y",
        "short_date": "D j F",
        "compact_date": "D j N",
        "time": "H:i",
    },
}
DEFAULT_FORMATS = FORMATS["en"]
# French and Italian write day and month names in lower case (Django's catalogues
# capitalise some); a template capitalises a sentence's start with |capfirst.
LOWER_CASE_NAMES = frozenset({"fr", "it"})


def _zone(zone: str | tzinfo | None) -> tzinfo:
    if isinstance(zone, tzinfo):
        return zone
    if not zone:
        return timezone.get_current_timezone()
    try:
        return ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise template.TemplateSyntaxError(f"unknown time zone {zone!r}") from error


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _language() -> str:
    return (get_language() or "en").split("-")[0].lower()


def format_local(value: object, zone: str | tzinfo | None, kind: str) -> str:
    """`value` (aware datetime or ISO string) in `zone`, as `kind` of FORMATS.

    A plain date is a calendar day: formatted as it is, whatever the zone.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        moment = datetime.combine(value, time(12))
    else:
        instant = _as_datetime(value)
        if instant is None:
            return ""
        moment = instant.astimezone(_zone(zone))
    language = _language()
    text = format_date(moment, FORMATS.get(language, DEFAULT_FORMATS)[kind])
    return text.lower() if language in LOWER_CASE_NAMES else text


@register.filter
def local_datetime(value: object, zone: str | tzinfo | None = None) -> str:
    """Date and time in `zone`, e.g. « mardi 3 mars 2026 à 09:20 »."""
    return format_local(value, zone, "datetime")


@register.filter
def local_date(value: object, zone: str | tzinfo | None = None) -> str:
    """The date in `zone`, e.g. « mardi 3 mars 2026 »."""
    return format_local(value, zone, "date")


@register.filter
def local_short_date(value: object, zone: str | tzinfo | None = None) -> str:
    """A short date in `zone`, e.g. « mar. 3 mars », for lists of days."""
    return format_local(value, zone, "short_date")


@register.filter
def local_compact_date(value: object, zone: str | tzinfo | None = None) -> str:
    """The shortest date in `zone`, e.g. « mar 3 mars », for slot buttons."""
    return format_local(value, zone, "compact_date")


@register.filter
def local_time(value: object, zone: str | tzinfo | None = None) -> str:
    """The time in `zone`, e.g. « 09:20 »."""
    return format_local(value, zone, "time")


@register.filter
def local_iso(value: object, zone: str | tzinfo | None = None) -> str:
    """ISO 8601 with the zone's offset, for `<time datetime="…">`."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    return moment.astimezone(_zone(zone)).isoformat(timespec="minutes")


@register.simple_tag
def slot_label(
    value: object, zone: str | tzinfo | None = None, show_day: bool = False
) -> SafeString | str:
    """A slot button's content: the time (and short day), the full date for screen readers."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    time = format_local(moment, zone, "time")
    if show_day:
        return format_html(
            '<time datetime="{}">{} <span class="nowrap">{}</span></time>'
            '<span class="visually-hidden"> ({})</span>',
            local_iso(moment, zone),
            format_local(moment, zone, "short_date"),
            time,
            format_local(moment, zone, "date"),
        )
    return format_html(
        '<time datetime="{}">{}</time><span class="visually-hidden"> ({})</span>',
        local_iso(moment, zone),
        time,
        format_local(moment, zone, "date"),
    )


@register.filter
def phone_local(value: object, region: str = "") -> str:
    """An E.164 number in national format (international when `region` differs)."""
    if not value:
        return ""
    text = str(value)
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        return text
    if region and phonenumbers.region_code_for_number(number) != region.upper():
        style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    else:
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    return phonenumbers.format_number(number, style)


def _error_list(errors: list[str], element_id: str) -> SafeString:
    return format_html(
        '<ul class="errorlist" id="{}">{}</ul>',
        element_id,
        format_html_join("", "<li>{}</li>", ((error,) for error in errors)),
    )


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    """One field: label, help, errors, control (see the module docstring)."""
    if field.is_hidden:
        return format_html("{}", field)
    auto_id = field.auto_id or field.html_name
    help_id, error_id = f"{auto_id}_helptext", f"{auto_id}_error"
    # help_text is the developer's, never the user's: Django's own templates render
    # it |safe (password rules as a list, allauth's "Forgot your password?" link).
    help_text = mark_safe(field.help_text)  # noqa: S308
    help_html = (
        format_html('<div class="help" id="{}">{}</div>', help_id, help_text)
        if field.help_text
        else ""
    )
    errors_html = _error_list(field.errors, error_id) if field.errors else ""
    described = " ".join(
        i for i, on in ((help_id, field.help_text), (error_id, field.errors)) if on
    )
    optional = (
        format_html(' <span class="muted">({})</span>', _("optional"))
        if not field.field.required
        and not field.field.disabled
        and not isinstance(field.field.widget, CheckboxInput)
        else ""
    )
    classes = "form-field" + (" has-error" if field.errors else "")
    if field.use_fieldset:
        return format_html(
            '<fieldset class="{} fieldset"{}><legend>{}{}</legend>{}{}{}</fieldset>',
            classes,
            format_html(' aria-describedby="{}"', described) if described else "",
            field.label,
            optional,
            help_html,
            errors_html,
            field.as_widget(),
        )
    attrs: dict[str, str] = {}
    if described:
        attrs["aria-describedby"] = described
    if field.errors:
        attrs["aria-invalid"] = "true"
    widget = field.as_widget(attrs=attrs)
    label = format_html(
        '<label for="{}">{}{}</label>', field.id_for_label, field.label, optional
    )
    if isinstance(field.field.widget, CheckboxInput):
        return format_html(
            '<div class="{} form-field--inline">{}{}{}{}</div>',
            classes,
            widget,
            label,
            help_html,
            errors_html,
        )
    # Errors before the control (read first), help after it (its links come after
    # the control in the keyboard order, e.g. "Forgot your password?").
    return format_html(
        '<div class="{}">{}{}{}{}</div>', classes, label, errors_html, widget, help_html
    )


@register.simple_tag
def form_fields(form: BaseForm) -> SafeString:
    """A whole form: its other errors (role=alert), hidden fields, then each field."""
    other_errors = list(form.non_field_errors())
    for field in form.hidden_fields():
        other_errors.extend(field.errors)
    summary = (
        format_html(
            '<div class="alert alert--error" role="alert">{}</div>',
            _error_list(other_errors, f"{form.prefix or 'form'}_errors"),
        )
        if other_errors
        else ""
    )
    return format_html(
        "{}{}{}",
        summary,
        format_html_join("", "{}", ((field,) for field in form.hidden_fields())),
        format_html_join(
            "", "{}", ((form_field(field),) for field in form.visible_fields())
        ),
    )
