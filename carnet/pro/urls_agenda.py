"""Routes of the workspace's agenda pages (included by carnet.pro.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
