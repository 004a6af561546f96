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
