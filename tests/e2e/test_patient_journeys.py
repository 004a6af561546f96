"""Patients in a real browser: search, book, get the e-mail, cancel, move — in their language.

Chromium (Debian's) against Django's live server, e-mail through a real SMTP server
on loopback. The clock is not frozen (a live browser cannot be): the demo data and
every expected time are computed from now.
"""

import os
import re
from datetime import date
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.dateformat import format as format_date

from carnet.accounts.models import Patient
from carnet.booking.models import Appointment
from tests.e2e.demo import (
    PASSWORD,
    TIMEOUT_MS,
    book,
    free_slots,
    goto,
    htmx_swap,
    log_in,
    make_patient_user,
    navigate,
    parse_slot,
    search,
    wall_clock,
)

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PARIS = "Europe/Paris"
BERLIN = "Europe/Berlin"
REASON = "Otite récidivante, fièvre depuis trois jours"
# allauth's e-mail verification code: 8 letters of RFC 8628's alphabet, dashed.
CODE = re.compile(r"\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b")
HOLD_URL = re.compile(r"/book/hold/[0-9a-f-]{36}/$")
DONE_URL = re.compile(r"/book/done/\d+/$")


def assert_lang(page, language: str) -> None:
    assert page.locator("html").get_attribute("lang") == language, page.url


def hhmm(instant, zone: str) -> str:
    return wall_clock(instant, zone).strftime("%H:%M")


def _text_parts(message) -> dict[str, str]:
    """Every decoded text part of a message (text/plain, text/html, text/calendar)."""
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        charset = part.get_content_charset() or "utf-8"
        parts[part.get_content_type()] = payload.decode(charset, "replace")
    return parts


def _result(page, last_name: str):
    """The search result (a list item) of the practitioner called `last_name`."""
    return page.locator("#results li").filter(has_text=last_name).first


# ---------------------------------------------------------------------------
# a. A new patient, in French: search, hold, sign up, book, e-mail, cancel.
# ---------------------------------------------------------------------------


def test_a_new_patient_searches_in_french_signs_up_books_and_cancels(
    open_page, demo, smtp
):
    page = open_page(locale="fr-FR")
    page.goto("/")
    assert_lang(page, "fr")

    # No accent typed: "pediatre" finds the Paris paediatrician, with next slots inline.
    search(page, q="pediatre", place="Paris")
    assert_lang(page, "fr")
    result = _result(page, "Lefèvre")
    slot = result.locator("button[name=start]").first
    slot.wait_for(timeout=TIMEOUT_MS)
    starts_at = parse_slot(slot.get_attribute("value"))
    local = wall_clock(starts_at, PARIS)
    assert hhmm(starts_at, PARIS) in slot.inner_text()
    # The closed practitioner says so plainly instead of showing slots.
    closed = _result(page, "Bernard")
    assert closed.locator("button[name=start]").count() == 0

    navigate(page, slot.click)
    page.wait_for_url(HOLD_URL)
    hold_path = page.url.removeprefix(page.url.split("/book/")[0])
    assert_lang(page, "fr")
    assert hhmm(starts_at, PARIS) in page.locator("main").inner_text()

    # Sign up inline: the held slot is the `next` page.
    navigate(page, page.locator("main a[href*='/accounts/signup/']").first.click)
    assert_lang(page, "fr")
    email = "camille.durand@example.test"
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    navigate(
        page,
        page.locator("form[action*='/accounts/signup/'] [type=submit]").first.click,
    )
    assert_lang(page, "fr")

    # The verification code comes by e-mail, through the loopback SMTP server.
    verification = smtp.wait_for(
        lambda m: m["To"] == email and CODE.search(_text_parts(m).get("text/plain", ""))
    )
    code = CODE.search(_text_parts(verification)["text/plain"]).group(1)
    page.fill("input[name=code]", code)
    navigate(
        page,
        page.locator(
            "form[action*='/accounts/confirm-email/'] [type=submit]"
        ).first.click,
    )
    page.wait_for_url(HOLD_URL)
    assert page.url.endswith(hold_path)  # back on the same hold: `next` was kept
    assert_lang(page, "fr")

    # For whom: me, with the details a practice needs, and an (encrypted) reason.
    assert page.locator("input[name=for_whom][value=self]").is_checked()
    page.fill("input[name=first_name]", "Camille")
    page.fill("input[name=last_name]", "Durand")
    page.fill("input[name=birth_date]", "1985-06-14")
    page.fill("input[name=phone]", "06 12 34 56 78")
    page.fill("textarea[name=reason]", REASON)
    navigate(
        page, page.locator("main form[method=post] button[type=submit]").last.click
    )
    page.wait_for_url(DONE_URL)
    assert_lang(page, "fr")
    assert local.strftime("%H:%M") in page.locator("main").inner_text()
    appointment = Appointment.objects.get(patient__account__email=email)
    assert appointment.starts_at == starts_at
    assert appointment.reason == REASON

    # The confirmation e-mail: an .ics in the practice's zone, and never the reason.
    confirmation = smtp.wait_for(
        lambda m: m["To"] == email and "text/calendar" in _text_parts(m)
    )
    parts = _text_parts(confirmation)
    ics = parts["text/calendar"]
    assert f"DTSTART;TZID={PARIS}:{local:%Y%m%dT%H%M%S}" in ics
    assert any(
        (part.get_filename() or "").endswith(".ics") for part in confirmation.walk()
    )
    assert local.strftime("%H:%M") in parts["text/plain"]
    for text in [confirmation["Subject"], *parts.values()]:
        assert "récidivante" not in text
        assert "Otite" not in text

    # My appointments → the appointment → cancel it, with a reason.
    navigate(page, page.locator("main a[href='/me/']").first.click)
    assert_lang(page, "fr")
    detail = f"/me/appointments/{appointment.pk}/"
    navigate(page, page.locator(f"main a[href='{detail}']").first.click)
    assert_lang(page, "fr")
    assert local.strftime("%H:%M") in page.locator("main").inner_text()
    navigate(page, page.locator(f"main a[href='{detail}cancel/']").first.click)
    assert_lang(page, "fr")
    cancel_form = page.locator("main form[method=post]").filter(
        has=page.locator("[name=reason]")
    )
    cancel_form.locator("input[name=reason]").first.check()  # why (a choice)
    cancel_form.locator("[name=details]").fill("Je ne suis plus disponible")
    navigate(page, cancel_form.locator("button[type=submit]").first.click)
    assert_lang(page, "fr")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancellation_reason.endswith("Je ne suis plus disponible")
    assert page.url.endswith(detail)
    assert re.search(r"annul|cancel", page.locator("main").inner_text(), re.I)
    assert page.locator(f"main a[href='{detail}cancel/']").count() == 0
    assert page.problems.page_errors == []
    assert page.problems.csp_violations == []


# ---------------------------------------------------------------------------
# b. A German user moves an appointment; dates in German.
# ---------------------------------------------------------------------------


def test_a_german_user_reschedules_and_reads_the_new_time_in_german(open_page, demo):
    munich = demo["munich_gp"]
    user = make_patient_user(
        email="lena.weber@example.test",
        first_name="Lena",
        last_name="Weber",
        language="de",
        phone="0151 23456789",
        country="DE",
        birth_date=date(1979, 2, 8),
    )
    slots = free_slots(munich.new)
    appointment = book(user, munich.new, slots[0])

    page = open_page(locale="de-DE")
    page.goto("/accounts/login/")
    assert_lang(page, "de")
    log_in(page, email=user.email)
    page.goto("/me/")
    assert_lang(page, "de")
    detail = f"/me/appointments/{appointment.pk}/"
    navigate(page, page.locator(f"main a[href='{detail}']").first.click)
    assert_lang(page, "de")

    navigate(page, page.locator(f"main a[href^='{detail}reschedule/']").first.click)
    assert_lang(page, "de")
    # Another slot, on another day than the current one (this week has none left
    # on a Friday evening or a weekend: then the next week's).
    old_day = wall_clock(slots[0], BERLIN).date()
    page.wait_for_selector("main .week-picker", timeout=TIMEOUT_MS)
    target = None
    for _week in range(3):
        buttons = page.locator("main .week-picker button[name=start]")
        for index in range(buttons.count()):
            value = buttons.nth(index).get_attribute("value")
            if wall_clock(parse_slot(value), BERLIN).date() != old_day:
                target = buttons.nth(index)
                break
        if target is not None:
            break
        htmx_swap(
            page,
            page.locator("main .week-picker a[hx-get*='week=']").last.click,
            path=f"{detail}reschedule/",
        )
    assert target is not None, "no other free time in three weeks"
    new_start = parse_slot(target.get_attribute("value"))
    navigate(page, target.click)
    assert_lang(page, "de")

    appointment.refresh_from_db()
    assert appointment.starts_at == new_start
    assert appointment.status == Appointment.Status.BOOKED
    if not page.url.endswith(detail):
        goto(page, detail)
    text = page.locator("main").inner_text()
    local = wall_clock(new_start, BERLIN)
    with translation.override("de"):
        # German formatting: « Dienstag, 3. März 2026, 09:20 ».
        day_month = format_date(local, "j. F")
        weekday = format_date(local, "l")
    assert local.strftime("%H:%M") in text
    assert day_month in text, (day_month, text)
    assert weekday in text, (weekday, text)
    assert page.problems.page_errors == []


# ---------------------------------------------------------------------------
# c. The whole booking with the keyboard alone.
# ---------------------------------------------------------------------------

FOCUS_VISIBLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "nothing focused";
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== "none";
  return outline || shadow ? "" : `no visible focus on ${e.outerHTML.slice(0, 120)}`;
}"""


def focus_to(page, selector: str, *, limit: int = 120) -> str:
    """Press Tab until the focused element matches `selector`.

    Asserts the focus is visible there; returns the focused element's markup.
    """
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            problem = page.evaluate(FOCUS_VISIBLE)
            assert problem == "", problem
            return page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{selector} never got the focus on {page.url}")


def focused_attribute(page, name: str) -> str | None:
    return page.evaluate("n => document.activeElement.getAttribute(n)", name)


def test_the_whole_booking_can_be_done_with_the_keyboard_alone(open_page, demo):
    user = make_patient_user(email="clavier@example.test", first_name="Inès")
    page = open_page(locale="fr-FR")
    page.goto("/")

    focus_to(page, ".skip-link")  # the first stop: skip to the content
    focus_to(page, "input[name=q]")
    page.keyboard.type("pediatre")
    focus_to(page, "input[name=place]")
    page.keyboard.type("Paris")
    htmx_swap(page, lambda: page.keyboard.press("Enter"), path="/search/")
    page.wait_for_selector("#results button[name=start]", timeout=TIMEOUT_MS)

    focus_to(page, "#results button[name=start]")
    starts_at = parse_slot(focused_attribute(page, "value"))
    navigate(page, lambda: page.keyboard.press("Enter"))
    page.wait_for_url(HOLD_URL)
    hold_url = page.url

    focus_to(page, "main a[href*='/accounts/login/']")
    navigate(page, lambda: page.keyboard.press("Enter"))
    focus_to(page, "input[name=login]")
    page.keyboard.type(user.email)
    focus_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    navigate(page, lambda: page.keyboard.press("Enter"))
    page.wait_for_url(hold_url)

    # For whom: "me" (the profile exists, first in the group), chosen with Space.
    focus_to(page, "input[name=for_whom]")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    me = page.evaluate("() => document.activeElement.value")
    assert me == str(Patient.objects.get(account=user).pk)
    focus_to(page, "textarea[name=reason]")
    page.keyboard.type("Contrôle annuel")
    focus_to(page, "main form[method=post] button[type=submit]")
    navigate(page, lambda: page.keyboard.press("Enter"))
    page.wait_for_url(DONE_URL)

    assert hhmm(starts_at, PARIS) in page.locator("main").inner_text()
    appointment = Appointment.objects.get(patient__account=user)
    assert appointment.starts_at == starts_at
    focus_to(page, "main a[href='/me/']")  # the next step is reachable too
    assert page.problems.page_errors == []


# ---------------------------------------------------------------------------
# d. The README's screenshots, taken by the tests themselves.
# ---------------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("CARNET_UPDATE_SCREENSHOTS") != "1",
    reason="set CARNET_UPDATE_SCREENSHOTS=1 to refresh the README's screenshots",
)
def test_take_the_patient_site_screenshots(open_page, demo):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    user = make_patient_user(email="capture@example.test", first_name="Camille")

    def shoot(page, name: str, *, top: str | None = None) -> None:
        page.wait_for_load_state("networkidle")  # fonts and images too
        if top:  # that element at the top of the screen
            page.locator(top).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 5_000

    # Everyone in Paris, earliest first: slots inline, the closed practice last.
    results = "/search/?q=&place=Paris&sort=earliest"
    page = open_page(locale="fr-FR", viewport={"width": 1100, "height": 760})
    goto(page, results)
    shoot(page, "search-results", top="#results")

    paediatrician = demo["paris_paediatrician"]
    goto(
        page,
        f"/practitioners/{paediatrician.practitioner.pk}/?known=0"
        f"&motive={paediatrician.new.pk}",
    )
    shoot(page, "practitioner", top="main h1")

    navigate(page, page.locator("#week-picker button[name=start]").first.click)
    navigate(page, page.locator("main a[href*='/accounts/login/']").first.click)
    log_in(page, email=user.email)
    page.fill("textarea[name=reason]", "Vaccin des 6 ans")
    navigate(
        page, page.locator("main form[method=post] button[type=submit]").last.click
    )
    page.wait_for_url(DONE_URL)
    shoot(page, "confirmation")

    phone = open_page(locale="fr-FR", viewport={"width": 390, "height": 844})
    goto(phone, results)
    shoot(phone, "search-results-phone", top="#results")
