"""Routes of the workspace's waiting list and no-show pages (included by carnet.pro.urls)."""

from django.urls import URLPattern, path

from carnet.pro.views import noshows, waitlist

urlpatterns: list[URLPattern] = [
    path(
        "practices/<int:practice_id>/waiting-list/",
        waitlist.waiting_list,
        name="waiting-list",
    ),
    path(
        "practices/<int:practice_id>/no-shows/",
        noshows.no_shows,
        name="no-shows",
    ),
    path(
        "practices/<int:practice_id>/no-shows/<int:strike_id>/decision/",
        noshows.decide,
        name="no-show-decide",
    ),
]
