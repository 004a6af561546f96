"""Weekly opening hours of demo agendas, by country habit and kind of practice.

French practices open 08:30-12:30 and 14:00-19:00 and often close one
afternoon; German ones hold morning hours every day and afternoon hours on
Monday, Tuesday and Thursday; Italian ones open 09:00-13:00 and late
afternoons. Vaccination centres and imaging centres run long continuous days.
"""

import random
from datetime import time

from carnet.directory.demo.specialties import (
    DENTAL,
    GP,
    IMAGING,
    NURSING,
    THERAPY,
    VACCINATION,
)

Hours = tuple[int, time, time]  # weekday (0 = Monday), opens, closes (wall clock)

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
WEEKDAYS = (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY)


def _t(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


_MORNING = {
    "FR": (("08:30", "09:00", "08:00"), ("12:00", "12:30")),
    "DE": (("08:00", "08:30", "07:30"), ("12:00", "12:30", "13:00")),
    "IT": (("09:00", "08:30"), ("12:30", "13:00")),
}
_AFTERNOON = {
    "FR": (("14:00", "14:30", "13:30"), ("18:00", "18:30", "19:00", "19:30")),
    "DE": (("15:00", "14:30", "14:00"), ("18:00", "18:30")),
    "IT": (("15:00", "15:30", "16:00"), ("19:00", "19:30")),
}
_SATURDAY_SHARE = {
    GP: {"FR": 0.35, "DE": 0.03, "IT": 0.15},
    DENTAL: {"FR": 0.2, "DE": 0.05, "IT": 0.25},
    THERAPY: {"FR": 0.3, "DE": 0.1, "IT": 0.2},
}


def _window(
    rng: random.Random, bounds: tuple[tuple[str, ...], tuple[str, ...]]
) -> tuple[time, time]:
    opens, closes = bounds
    return _t(rng.choice(opens)), _t(rng.choice(closes))


def _office(rng: random.Random, country: str, profile: str) -> list[Hours]:
    morning = _window(rng, _MORNING[country])
    afternoon = _window(rng, _AFTERNOON[country])
    if profile == THERAPY:
        # Talking therapies and rehabilitation see patients until late.
        afternoon = (afternoon[0], _t(rng.choice(("19:30", "20:00", "20:30"))))
        if rng.random() < 0.4:
            morning = (_t("10:00"), morning[1])
    days = list(WEEKDAYS)
    if profile != GP and rng.random() < 0.2:
        days.remove(rng.choice(days))  # a full day elsewhere (hospital, teaching)
    if rng.random() < 0.08:
        days = sorted(rng.sample(days, 3))  # part-time
    if country == "DE":
        afternoons = {MONDAY, TUESDAY, THURSDAY}
        if rng.random() < 0.3:
            afternoons.add(FRIDAY if rng.random() < 0.5 else WEDNESDAY)
    else:
        afternoons = set(WEEKDAYS)
        if rng.random() < 0.45:
            # The classic half day off: Wednesday in France, Thursday in Italy.
            usual = WEDNESDAY if country == "FR" else THURSDAY
            afternoons.discard(usual if rng.random() < 0.6 else rng.choice(WEEKDAYS))
    hours: list[Hours] = []
    for day in days:
        hours.append((day, *morning))
        if day in afternoons:
            hours.append((day, *afternoon))
    if rng.random() < _SATURDAY_SHARE.get(profile, {}).get(country, 0.08):
        hours.append(
            (
                SATURDAY,
                _t(rng.choice(("08:30", "09:00"))),
                _t(rng.choice(("12:00", "12:30", "13:00"))),
            )
        )
    return hours


def _continuous(
    rng: random.Random,
    days: tuple[int, ...],
    opens: tuple[str, ...],
    closes: tuple[str, ...],
) -> list[Hours]:
    window = (_t(rng.choice(opens)), _t(rng.choice(closes)))
    return [(day, *window) for day in days]


def weekly_hours(rng: random.Random, *, country: str, profile: str) -> list[Hours]:
    """Weekly opening windows (weekday, opens, closes) for an agenda; never empty, never crossing midnight."""
    if profile == VACCINATION:
        hours = _continuous(
            rng, (*WEEKDAYS, SATURDAY), ("08:00", "08:30", "09:00"), ("19:00", "20:00")
        )
        if rng.random() < 0.3:
            hours.append((SUNDAY, _t("09:00"), _t("13:00")))
        return hours
    if profile == IMAGING:
        hours = _continuous(
            rng, WEEKDAYS, ("07:30", "08:00"), ("18:00", "19:00", "19:30")
        )
        if rng.random() < 0.6:
            hours.append((SATURDAY, _t("08:00"), _t(rng.choice(("12:00", "12:30")))))
        return hours
    if profile == NURSING:
        # Blood tests and dressings early in the morning, a few evening slots.
        hours = _continuous(
            rng, (*WEEKDAYS, SATURDAY), ("07:00", "07:30"), ("10:00", "10:30", "11:00")
        )
        if rng.random() < 0.5:
            hours += _continuous(rng, WEEKDAYS, ("17:00", "17:30"), ("19:00", "19:30"))
        return hours
    return _office(rng, country, profile)
