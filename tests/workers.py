"""Run the background tasks in tests: in this process, or as real worker processes.

``drain()`` runs every task that is due now (the clock as time_machine sets
it) in this process, as ``manage.py db_worker --batch`` would, and returns.
``worker_process()`` starts a real ``manage.py db_worker`` on the test
database, for tests that need a separate process (the live server's
journeys, the SIGKILL test).
"""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

ROOT = Path(__file__).resolve().parent.parent


def drain() -> int:
    """Run every task due now, in this process, as db_worker does; returns how many.

    Unlike ``call_command("db_worker")`` it leaves the test's database
    connection open, so it works inside a test's transaction too. A task that
    raised fails the test with its traceback.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-drain",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
        result.refresh_from_db()
        if result.status == "FAILED":
            raise AssertionError(f"task {result.task_path} failed:\n{result.traceback}")


def database_url() -> str:
    """The URL of the test database this process uses."""
    options = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{options['NAME']}"
    user = options.get("USER") or ""
    password = options.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{options['PORT']}" if options.get("PORT") else ""
    return (
        f"postgres://{credentials}{options.get('HOST') or ''}{port}/{options['NAME']}"
    )


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker process: this test's database and mail server."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CARNET_DATABASE_URL": database_url(),
        "CARNET_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "CARNET_SMTP_HOST": str(settings.EMAIL_HOST),
        "CARNET_SMTP_PORT": str(settings.EMAIL_PORT),
        "CARNET_SITE_URL": settings.CARNET_SITE_URL,
        "CARNET_VONAGE_BASE_URL": settings.CARNET_VONAGE_BASE_URL,
        "CARNET_VONAGE_API_KEY": settings.CARNET_VONAGE_API_KEY,
        "CARNET_VONAGE_API_SECRET": settings.CARNET_VONAGE_API_SECRET,
        "CARNET_VONAGE_SIGNATURE_SECRET": settings.CARNET_VONAGE_SIGNATURE_SECRET,
        "CARNET_VONAGE_SENDER": settings.CARNET_VONAGE_SENDER,
        "CARNET_VAULT_BACKEND": settings.VAULT_BACKEND,
        "CARNET_VAULT_KEY_FILE": str(settings.VAULT_KEY_FILE),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


def worker_process(*, interval: float = 0.05, **env: str) -> subprocess.Popen:
    """Start `manage.py db_worker` on the test database (the caller stops it)."""
    return subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            str(interval),
            "--no-startup-delay",
            "--no-reload",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=worker_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
