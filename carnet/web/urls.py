from django.urls import path

from carnet.web.views import actions, booking, me, me_practices, offers, search

app_name = "web"
urlpatterns = [
    # A reminder's one-click links (carnet/web/views/actions.py)
    path("a/<str:token>/", actions.appointment_action, name="appointment-action"),
    # A waiting-list offer's link (carnet/web/views/offers.py)
    path("offers/<str:token>/", offers.offer, name="offer"),
    # Search and the practitioner page (carnet/web/views/search.py)
    path("search/", search.results, name="search"),
    path("practitioners/<int:pk>/", search.practitioner, name="practitioner"),
    path("places/<int:location_id>/map/", search.map_link, name="map-link"),
    # Booking funnel (carnet/web/views/booking.py)
    path("book/<int:agenda_id>/<int:motive_id>/", booking.start, name="book-start"),
    path("book/hold/<uuid:hold_id>/", booking.hold, name="book-hold"),
    path("book/done/<int:appointment_id>/", booking.confirmed, name="book-confirmed"),
    path(
        "book/done/<int:appointment_id>/calendar.ics",
        booking.calendar_file,
        name="book-calendar",
    ),
    # Patient area (carnet/web/views/me.py)
    path("me/", me.dashboard, name="me"),
    path(
        "me/appointments/<int:appointment_id>/", me.appointment, name="me-appointment"
    ),
    path(
        "me/appointments/<int:appointment_id>/cancel/",
        me.cancel,
        name="me-cancel",
    ),
    path(
        "me/appointments/<int:appointment_id>/reschedule/",
        me.reschedule,
        name="me-reschedule",
    ),
    path("me/profile/", me.profile, name="me-profile"),
    path("me/relatives/", me.relatives, name="me-relatives"),
    path("me/relatives/<int:patient_id>/", me.relative, name="me-relative"),
    path("me/access-log/", me.access_log, name="me-access-log"),
    path("me/export/", me.export, name="me-export"),
    path("me/delete/", me.delete_account, name="me-delete"),
    path("me/notifications/", me.notifications, name="me-notifications"),
    path("me/security/", me.security, name="me-security"),
    # No-shows and the waiting list (carnet/web/views/me_practices.py)
    path("me/no-shows/", me_practices.no_shows, name="me-no-shows"),
    path(
        "me/no-shows/<int:strike_id>/excuse/",
        me_practices.excuse,
        name="me-no-show-excuse",
    ),
    path("me/waiting-list/", me_practices.waiting_list, name="me-waiting-list"),
    path(
        "me/waiting-list/join/<int:agenda_id>/",
        me_practices.join,
        name="me-waiting-list-join",
    ),
    path(
        "me/waiting-list/<int:entry_id>/leave/",
        me_practices.leave,
        name="me-waiting-list-leave",
    ),
]
