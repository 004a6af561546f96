from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from carnet.api.api import api
from carnet.web.views.search import home

# The admin logs in through allauth: same throttling, same second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", home, name="home"),
    path("", include("carnet.web.urls")),
    path("accounts/", include("allauth.urls")),
    path("pro/", include("carnet.booking.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
