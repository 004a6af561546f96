"""Test settings: fast hashing, the database from CARNET_DATABASE_URL / DATABASE_URL."""

from config.env import VAR_DIR
from config.settings.base import *  # noqa: F403
from config.settings.base import databases

SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = databases(f"sqlite:///{VAR_DIR / 'test.sqlite3'}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the apps in development and tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
