"""Real Chromium (Debian's package) driven by Playwright against Django's live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = (
    Path(__file__).resolve().parents[2]
    / "frontend"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
# Flags that keep Chromium from calling home (this machine reaches no other host).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; skipped (failed under CI) when missing."""
    if not (Path(CHROMIUM).exists() and AXE.exists()):
        message = "Chromium or axe-core missing: run scripts/ensure-browser.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop; the ORM calls of the tests are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def axe_source() -> str:
    """axe-core from npm (frontend/package-lock.json), injected by the tests only."""
    return AXE.read_text()


@pytest.fixture
def smtp(settings, transactional_db):
    """A real SMTP server on loopback; Django (and the live server) send to it.

    A real worker process (manage.py db_worker) runs beside the live server and
    sends the outbox's messages there too. Yields the server's Mailbox:
    `smtp.wait_for(predicate)` returns a parsed message.
    """
    from tests.e2e import smtp as smtp_server
    from tests.workers import worker_process

    controller, mailbox = smtp_server.start()
    smtp_server.send_here(settings, controller)
    worker = worker_process(interval=0.2)
    yield mailbox
    worker.terminate()
    worker.wait(timeout=30)
    controller.stop()


@pytest.fixture
def demo(transactional_db, purge_audit_trail):
    """Practices in Paris, Lyon and München, indexed for search (see demo.py).

    The journeys read and write health data, so they leave audit events: the
    audit table is emptied before the flush (PostgreSQL refuses to truncate it).
    """
    from tests.e2e.demo import build_demo

    return build_demo()


class Problems:
    """What went wrong in the pages of one browser context: console errors, JS errors."""

    def __init__(self) -> None:
        self.console_errors: list[tuple[str, str]] = []  # (text, URL)
        self.csp_violations: list[str] = []
        self.page_errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))


@pytest.fixture
def open_page(browser, live_server):
    """open_page(locale="fr-FR", **context_options) → a page on the live server.

    The page's context has base_url set to the live server (page.goto("/")) and a
    short default timeout; `page.problems` (a Problems) collects console errors,
    CSP violations and uncaught JavaScript errors. Contexts close after the test.
    """
    contexts = []

    def open_page(*, locale: str = "fr-FR", **options):
        options.setdefault("viewport", {"width": 1100, "height": 760})
        context = browser.new_context(
            base_url=live_server.url, locale=locale, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = Problems()
        page.problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
