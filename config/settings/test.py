"""Test settings: fast hashing, the database from CARNET_DATABASE_URL / DATABASE_URL."""

import os

from config.env import VAR_DIR
from config.settings.base import *  # noqa: F403
from config.settings.base import databases

SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = databases(f"sqlite:///{VAR_DIR / 'test.sqlite3'}")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A real file (not Django's in-memory default), so that concurrent tests
    # exercise WAL and IMMEDIATE transactions as `make run` does.
    # One file per test process, so that concurrent runs never share it
    # (conftest.py removes it at the end of the session).
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test_carnet_{os.getpid()}.sqlite3")
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the apps in development and tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
