"""The booking funnel (work in progress)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def start(request: HttpRequest, agenda_id: int, motive_id: int) -> HttpResponse:
    return render(request, "home.html")


def hold(request: HttpRequest, hold_id: object) -> HttpResponse:
    return render(request, "home.html")


def confirmed(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return render(request, "home.html")
