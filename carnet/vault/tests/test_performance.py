"""Guards against a slow path sneaking into the hot loop (bounds ~20x the measured cost)."""

import time

import pytest

from carnet.vault.services import seal, unseal

pytestmark = pytest.mark.django_db

CONTEXT = "booking_appointment.reason.0b6c7a5e-1111-4e6b-9c55-5d2f0a4b7e21"
PLAINTEXT = b"Douleur thoracique depuis deux jours"


def per_call_us(function, calls):
    function()
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls * 1e6


def test_unsealing_with_a_cached_key_takes_microseconds():
    token = seal(subject="patient:perf", context=CONTEXT, plaintext=PLAINTEXT)

    assert per_call_us(lambda: unseal(token=token, context=CONTEXT), 2000) < 100


def test_sealing_with_a_cached_key_costs_one_query():
    elapsed = per_call_us(
        lambda: seal(subject="patient:perf", context=CONTEXT, plaintext=PLAINTEXT), 500
    )

    assert elapsed < 2000
