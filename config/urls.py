from django.contrib import admin
from django.urls import path

from carnet.api.api import api
from carnet.core.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
