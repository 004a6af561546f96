"""Routes of the workspace's team pages (included by carnet.pro.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
