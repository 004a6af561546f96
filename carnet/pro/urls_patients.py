"""Routes of the workspace's patients pages (included by carnet.pro.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
