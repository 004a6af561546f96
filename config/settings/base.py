"""Settings that are the same everywhere; secrets never have a default here."""

from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, VAR_DIR, database_url, env

DEBUG = env.bool("CARNET_DEBUG", default=False)
ALLOWED_HOSTS = env.list("CARNET_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "carnet.core",
    "carnet.vault",
    "carnet.audit",
    "carnet.accounts",
    "carnet.directory",
    "carnet.scheduling",
    "carnet.booking",
    "carnet.notifications",
    "carnet.records",
    "carnet.web",
    "carnet.pro",
    "carnet.api",
]

# Background work: Django's tasks API (the django-tasks backport until Django 6)
# stored in this database, so that a task is enqueued in the very transaction
# of the booking that causes it; `manage.py db_worker` runs them (make run
# starts one). See carnet.core.tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

MIDDLEWARE = [
    "carnet.core.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "carnet.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "carnet.core.security.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "carnet.core.language.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "carnet.accounts.middleware.StaffSessionMiddleware",
    "carnet.accounts.middleware.StaffMfaMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def databases(default_url: str) -> dict:
    """DATABASES from the URL; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    config = env.db_url_config(database_url(default_url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # Every atomic block takes the write lock first: a check-then-insert
            # inside one transaction cannot interleave with another writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config.setdefault("CONN_MAX_AGE", 60)
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return {"default": config}


DATABASES = databases(f"sqlite:///{VAR_DIR / 'carnet.sqlite3'}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Argon2id first; older hashes are upgraded on the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [
    ("fr", _("French")),
    ("de", _("German")),
    ("it", _("Italian")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: e-mail accounts, verified e-mail, MFA (TOTP, passkeys, recovery codes).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A code typed on the same page keeps a booking in progress (and its held slot) in view.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_ADAPTER = "carnet.accounts.adapters.AccountAdapter"
# Throttling (allauth's own rate limits; counters live in the cache).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/ip,5/5m/key",
    "reset_password": "5/m/ip,3/15m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Carnet"
# One 30-second step either side (RFC 6238 section 5.2: transmission delay and
# phone clocks drift); a code typed as it rolls over is not refused.
MFA_TOTP_TOLERANCE = 1
USERSESSIONS_TRACK_ACTIVITY = True

# Staff sessions: 15 minutes idle, 12 hours at most (carnet.accounts.middleware).
STAFF_SESSION_IDLE_SECONDS = 15 * 60
STAFF_SESSION_ABSOLUTE_SECONDS = 12 * 3600
SESSION_COOKIE_AGE = 14 * 24 * 3600

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"


# External systems, one module each (STYLE C3.8).
from config.settings.integrations.email import *  # noqa: E402, F403
from config.settings.integrations.logging import *  # noqa: E402, F403
from config.settings.integrations.security import *  # noqa: E402, F403
from config.settings.integrations.sms import *  # noqa: E402, F403
from config.settings.integrations.vault import *  # noqa: E402, F403

# Booking funnel: how long a chosen slot stays held for the patient (minutes).
CARNET_HOLD_MINUTES = env.int("CARNET_HOLD_MINUTES", default=10)
# Waiting list: how long a freed slot is kept for the patient it is offered to (minutes).
CARNET_WAITLIST_OFFER_MINUTES = env.int("CARNET_WAITLIST_OFFER_MINUTES", default=15)

# The outbox (carnet.notifications.delivery): how long a worker's claim on a
# message lasts, how long a due message may wait unclaimed before the sweep
# takes it over, how often the sweep runs, and how many attempts before a
# message has failed.
CARNET_MESSAGE_LEASE_SECONDS = env.int("CARNET_MESSAGE_LEASE_SECONDS", default=300)
CARNET_OUTBOX_STUCK_SECONDS = env.int("CARNET_OUTBOX_STUCK_SECONDS", default=120)
CARNET_OUTBOX_SWEEP_SECONDS = env.int("CARNET_OUTBOX_SWEEP_SECONDS", default=60)
CARNET_MESSAGE_MAX_ATTEMPTS = env.int("CARNET_MESSAGE_MAX_ATTEMPTS", default=6)
