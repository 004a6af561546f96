"""Outgoing e-mail: SMTP in production, the console in development."""

from config.env import VAR_DIR, env

EMAIL_BACKEND = env.str(
    "CARNET_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
# With the file backend (what `make run` uses), one file per message here.
EMAIL_FILE_PATH = env.str("CARNET_EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("CARNET_SMTP_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("CARNET_SMTP_PORT", default=25)
EMAIL_HOST_USER = env.str("CARNET_SMTP_USER", default="")
EMAIL_HOST_PASSWORD = env.str("CARNET_SMTP_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("CARNET_SMTP_STARTTLS", default=False)
# Seconds before an unanswering SMTP server counts as a temporary failure.
CARNET_SMTP_TIMEOUT = env.float("CARNET_SMTP_TIMEOUT", default=30.0)
DEFAULT_FROM_EMAIL = env.str(
    "CARNET_EMAIL_FROM", default="Carnet <no-reply@carnet.invalid>"
)

# Absolute address of the site, for links in e-mails (no request to take it from).
CARNET_SITE_URL = env.str("CARNET_SITE_URL", default="http://127.0.0.1:8000")
