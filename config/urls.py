from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from carnet.api.api import api
from carnet.core.language import set_language
from carnet.web.views.search import home

# The admin logs in through allauth: same throttling, same second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", home, name="home"),
    path("", include("carnet.web.urls")),
    path("accounts/", include("allauth.urls")),
    # The language switcher: Django's set_language, also saved on the account.
    path("i18n/setlang/", set_language, name="set_language"),
    path("pro/", include("carnet.pro.urls")),
    # The SMS provider's webhooks: signed, no session, no CSRF token.
    path("hooks/", include("carnet.notifications.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
