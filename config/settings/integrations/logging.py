"""Structured JSON logs on stderr, scrubbed of personal data (carnet.core.logging).

One handler, on the root logger; Django's loggers (runserver's `django.server`
included), the ASGI/WSGI servers' and Carnet's own propagate to it, so nothing
is written by another path. No e-mail to admins: a traceback can hold patient
data.
"""

from config.env import env

LOG_LEVEL = env.str("CARNET_LOG_LEVEL", default="INFO").upper()


def _through_root(level: str = LOG_LEVEL) -> dict:
    """A logger that keeps no handler of its own and passes records to the root's."""
    return {"handlers": [], "level": level, "propagate": True}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "carnet.core.logging.ScrubFilter"}},
    "formatters": {"json": {"()": "carnet.core.logging.JsonFormatter"}},
    "handlers": {
        "json": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["scrub"],
            "formatter": "json",
        }
    },
    "root": {"handlers": ["json"], "level": LOG_LEVEL},
    "loggers": {
        "django": _through_root(),
        "django.request": _through_root(),
        "django.server": _through_root(),
        "django.security": _through_root(),
        # Its DEBUG lines are SQL with parameters: never, whatever the level.
        "django.db.backends": _through_root("WARNING"),
        "uvicorn": _through_root(),
        "uvicorn.error": _through_root(),
        "uvicorn.access": _through_root(),
        "gunicorn.error": _through_root(),
        "gunicorn.access": _through_root(),
        "carnet": _through_root(),
    },
}
