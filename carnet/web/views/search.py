"""Home, search results and the practitioner page (work in progress)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@require_GET
def practitioner(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "home.html")
