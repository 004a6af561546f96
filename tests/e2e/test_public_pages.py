"""The public pages in a real browser: nothing leaves the origin, the CSP holds, axe is happy.

The patient site (search, booking funnel) joins this crawl when it is built.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/api/docs",
]
# Swagger UI is a third-party developer tool served from our own static files: crawled
# for privacy and CSP, not held to our accessibility bar.
AXE_PAGES = [p for p in PAGES if p != "/api/docs"]

pytestmark = pytest.mark.django_db(transaction=True)


def _visit(browser, url, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    requests, csp_errors = [], []
    page.on("request", lambda request: requests.append(request))
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    response = page.goto(url, wait_until="networkidle")
    return context, page, response, requests, csp_errors


@pytest.mark.parametrize("path", PAGES)
def test_no_request_leaves_the_origin_and_the_csp_holds(browser, live_server, path):
    origin = urlsplit(live_server.url)
    context, _page, response, requests, csp_errors = _visit(
        browser, live_server.url + path
    )

    assert response.status == 200
    assert len(requests) >= 1
    foreign = [
        r.url
        for r in requests
        if urlsplit(r.url)[:2] != origin[:2] and not r.url.startswith("data:")
    ]
    assert foreign == []
    assert [r.url for r in requests if "referer" in r.all_headers()] == []
    assert csp_errors == []
    context.close()


@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violation(
    browser, live_server, path, axe_source
):
    # axe is injected as a script: this context alone ignores the CSP to let it in.
    context, page, response, _requests, _csp = _visit(
        browser, live_server.url + path, bypass_csp=True
    )
    page.add_script_tag(content=axe_source)

    violations = page.evaluate("async () => (await axe.run()).violations")

    assert response.status == 200
    serious = [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    context.close()


@pytest.mark.parametrize("path", AXE_PAGES)
def test_pages_fit_a_phone_screen(browser, live_server, path):
    context, page, response, _requests, _csp = _visit(
        browser, live_server.url + path, viewport={"width": 360, "height": 740}
    )

    assert response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.skipif(
    os.environ.get("CARNET_UPDATE_SCREENSHOTS") != "1",
    reason="set CARNET_UPDATE_SCREENSHOTS=1 to refresh the README's screenshots",
)
@pytest.mark.parametrize(("path", "name"), [("/api/docs", "api-docs")])
def test_take_the_readme_screenshots(browser, live_server, path, name):
    context, page, response, _requests, _csp = _visit(
        browser, live_server.url + path, viewport={"width": 1100, "height": 760}
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    assert response.status == 200
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 5_000
    context.close()
