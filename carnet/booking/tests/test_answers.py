"""Answers to a motive's booking questions: asked, checked, sealed, readable by the patient."""

import json
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from carnet.accounts.data_rights import (
    export_patient_data,
)
from carnet.accounts.models import User
from carnet.accounts.services import (
    create_own_patient,
)
from carnet.booking.answers import MAX_ANSWER_LENGTH, clean_answers, read_answers
from carnet.booking.errors import (
    BookingAnswerMissing,
    BookingAnswerTooLong,
    BookingAnswerUnknown,
)
from carnet.booking.models import Appointment, SlotHold
from carnet.booking.services import book_appointment

pytestmark = pytest.mark.django_db

SLOT = "2026-03-03T09:20:00+01:00"  # bookable from NOW (Monday 07:00 in Paris)
QUESTIONS = [
    {"label": "Current treatments?", "required": True},
    {"label": "Bring your vaccination record?", "required": False},
]
SECRET_ANSWER = "canary-answer Levothyrox 75"


@pytest.fixture
def asking(motive):
    motive.booking_questions = QUESTIONS
    motive.save(update_fields=["booking_questions"])
    return motive


@pytest.fixture
def holder(db):
    return create_own_patient(
        user=User.objects.create_user("anne@example.test", "secret-password"),
        first_name="Anne",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
    )


def _book(motive, patient, answers):
    from datetime import datetime

    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=datetime.fromisoformat(SLOT),
        booked_by=patient.account,
        answers=answers,
    )


def test_answers_are_kept_in_the_questions_order_without_the_empty_ones():
    cleaned = clean_answers(
        questions=QUESTIONS,
        answers={
            "bring your   vaccination record?": "yes",
            "Current treatments?": "  none  ",
        },
    )

    assert cleaned == [
        {"question": "Current treatments?", "answer": "none"},
        {"question": "Bring your vaccination record?", "answer": "yes"},
    ]
    assert clean_answers(questions=QUESTIONS[1:], answers={}) == []


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({}, BookingAnswerMissing),
        ({"Current treatments?": "   "}, BookingAnswerMissing),
        ({"Current treatments?": "x" * (MAX_ANSWER_LENGTH + 1)}, BookingAnswerTooLong),
        ({"Current treatments?": "none", "Blood type?": "O+"}, BookingAnswerUnknown),
    ],
)
def test_bad_answers_are_refused(answers, error):
    with pytest.raises(error):
        clean_answers(questions=QUESTIONS, answers=answers)


@given(st.dictionaries(st.text(max_size=30), st.text(max_size=50), max_size=4))
def test_any_answers_are_either_cleaned_or_refused_with_a_clear_error(answers):
    refusal = ""
    cleaned = []
    try:
        cleaned = clean_answers(questions=QUESTIONS[1:], answers=answers)
    except (BookingAnswerUnknown, BookingAnswerTooLong) as exc:
        refusal = exc.render()
    assert refusal or all(item["answer"] for item in cleaned)
    assert not (refusal and cleaned)


def test_a_booking_missing_a_required_answer_books_nothing(frozen_now, asking, holder):
    with pytest.raises(BookingAnswerMissing) as refused:
        _book(asking, holder, {"Bring your vaccination record?": "yes"})

    assert "Current treatments?" in refused.value.render()
    assert not Appointment.objects.exists()


def test_answers_are_sealed_at_rest_and_read_back(frozen_now, asking, holder):
    appointment = _book(asking, holder, {"Current treatments?": SECRET_ANSWER})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT answers FROM booking_appointment WHERE id = %s", [appointment.pk]
        )
        (raw,) = cursor.fetchone()
    assert SECRET_ANSWER.encode() not in bytes(raw)
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert read_answers(fresh.answers) == [
        {"question": "Current treatments?", "answer": SECRET_ANSWER}
    ]
    exported = export_patient_data(user=holder.account)
    assert SECRET_ANSWER in json.dumps(exported, ensure_ascii=False)


def _client(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def test_the_funnel_asks_the_questions_and_the_patient_sees_the_answers(
    frozen_now, asking, holder
):
    me = _client(holder.account)
    started = me.post(
        reverse("web:book-start", args=[asking.agenda_id, asking.pk]), {"start": SLOT}
    )
    hold = SlotHold.objects.get()
    page = me.get(started["Location"])
    assert "Current treatments?" in page.content.decode()
    for_whom = page.context["form"].fields["for_whom"].initial

    unanswered = me.post(
        urlsplit(started["Location"]).path, {"for_whom": for_whom, "answer_1": "yes"}
    )

    assert unanswered.status_code == 400
    assert unanswered.context["form"].errors["answer_0"]
    assert not Appointment.objects.exists()

    booked = me.post(
        reverse("web:book-hold", args=[hold.pk]),
        {"for_whom": for_whom, "answer_0": SECRET_ANSWER, "answer_1": ""},
    )

    assert booked.status_code == 302
    appointment = Appointment.objects.get()
    assert read_answers(appointment.answers) == [
        {"question": "Current treatments?", "answer": SECRET_ANSWER}
    ]
    detail = me.get(reverse("web:me-appointment", args=[appointment.pk]))
    assert SECRET_ANSWER in detail.content.decode()


def test_the_api_takes_answers_by_question_label(frozen_now, asking, holder):
    from carnet.accounts.services import (
        mint_api_token,
    )

    _token, raw = mint_api_token(user=holder.account)
    api = Client(headers={"authorization": f"Bearer {raw}", "accept-language": "en"})
    payload = {"agenda": asking.agenda_id, "motive": asking.pk, "start": SLOT}

    refused = api.post("/api/v1/appointments", payload, content_type="application/json")
    booked = api.post(
        "/api/v1/appointments",
        {**payload, "answers": {"Current treatments?": "none"}},
        content_type="application/json",
    )

    assert refused.status_code == 422
    assert "Current treatments?" in refused.content.decode()
    assert booked.status_code == 201
    assert read_answers(Appointment.objects.get().answers)[0]["answer"] == "none"
