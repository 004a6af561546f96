"""Routes of the workspace's messages page (included by carnet.pro.urls)."""

from django.urls import URLPattern, path

from carnet.pro.views import messages

urlpatterns: list[URLPattern] = [
    path(
        "practices/<int:practice_id>/messages/",
        messages.failed_messages,
        name="messages",
    ),
]
