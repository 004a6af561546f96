"""Patients' answers to a motive's booking questions (see VisitMotive.booking_questions).

Answers are health data: they are sealed on the appointment (Appointment.answers,
under the patient's data key) as a JSON list of {"question", "answer"} in the
questions' order, so that a later change of the questions never relabels an
answer already given.
"""

import json
from collections.abc import Mapping
from typing import Any

from carnet.booking.errors import (
    BookingAnswerMissing,
    BookingAnswerTooLong,
    BookingAnswerUnknown,
)

MAX_ANSWER_LENGTH = 1000


def clean_answers(
    *, questions: list[dict[str, Any]], answers: Mapping[str, object] | None
) -> list[dict[str, str]]:
    """The answers given, by question label, checked against the motive's questions.

    Returns [{"question": label, "answer": text}] in the questions' order,
    leaving out questions left empty. Labels compare without case or extra
    spaces. Raises BookingAnswerMissing (a required question left empty),
    BookingAnswerTooLong or BookingAnswerUnknown (no such question).
    """
    given: dict[str, str] = {}
    for label, value in (answers or {}).items():
        text = "" if value is None else str(value).strip()
        given[" ".join(str(label).split()).casefold()] = text
    known = {question["label"].casefold() for question in questions}
    for label in given:
        if label not in known:
            raise BookingAnswerUnknown(question=label)
    cleaned = []
    for question in questions:
        text = given.get(question["label"].casefold(), "")
        if not text:
            if question.get("required"):
                raise BookingAnswerMissing(question=question["label"])
            continue
        if len(text) > MAX_ANSWER_LENGTH:
            raise BookingAnswerTooLong(
                question=question["label"], max_length=MAX_ANSWER_LENGTH
            )
        cleaned.append({"question": question["label"], "answer": text})
    return cleaned


def seal_answers(cleaned: list[dict[str, str]]) -> str:
    """The text stored (sealed) in Appointment.answers; empty when nothing was answered."""
    return json.dumps(cleaned, ensure_ascii=False) if cleaned else ""


def read_answers(stored: str) -> list[dict[str, str]]:
    """The answers of an appointment, from its unsealed Appointment.answers."""
    return json.loads(stored) if stored else []
