"""Routes of the workspace's waitlist pages (included by carnet.pro.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
