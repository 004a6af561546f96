"""Local development: `make run`. Never used in production."""

from config.env import VAR_DIR, env
from config.settings.base import *  # noqa: F403

DEBUG = env.bool("CARNET_DEBUG", default=True)


def _local_secret_key() -> str:
    """A random key kept in var/, created on first use with owner-only permissions."""
    import secrets

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("CARNET_SECRET_KEY", default="") or _local_secret_key()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the apps in development and tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
