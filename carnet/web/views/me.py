"""The patient area (work in progress)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def appointment(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def cancel(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def reschedule(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def profile(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def relatives(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def relative(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def access_log(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def export(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def delete_account(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def notifications(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")


def security(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "home.html")
