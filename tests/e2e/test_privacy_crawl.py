"""Privacy, proven in a real browser: the whole patient journey stays on our origin.

Chromium walks every page of the journey (tests/e2e/demo.py), including a search for
"cancer du sein", and every request it makes is checked: none leaves the origin, none
carries a Referer, the search term travels only to our own /search, the strict CSP
holds (no violation, so no inline script ran) and every page is served with it.
"""

from urllib.parse import unquote_plus, urlsplit

import pytest

from tests.e2e.demo import make_patient_user, walk_patient_journey

pytestmark = pytest.mark.django_db(transaction=True)

SENSITIVE = "cancer"


def _mentions(value: str | None) -> bool:
    return bool(value) and SENSITIVE in unquote_plus(value).lower()


def test_the_patient_journey_sends_nothing_outside_the_origin(
    open_page, demo, live_server
):
    origin = urlsplit(live_server.url)
    user = make_patient_user(email="crawl@example.test", with_relative=True)
    page = open_page(locale="fr-FR")
    requests, responses = [], []
    page.on("request", lambda request: requests.append(request))
    page.on("response", lambda response: responses.append(response))
    external_links: list[tuple[str, str, str | None]] = []
    inline_scripts: list[tuple[str, int]] = []

    def on_page(page, label: str) -> None:
        # The CSP would allow a script carrying the request's nonce: there is none.
        count = page.locator("script:not([src]):not([type='application/json'])").count()
        if count:
            inline_scripts.append((label, count))
        # Links out (e.g. to a map) are followed only on an explicit click, and
        # then with rel="noreferrer".
        for link in page.locator("a[href^='http']").all():
            href = link.get_attribute("href") or ""
            if urlsplit(href)[:2] != origin[:2]:
                external_links.append((label, href, link.get_attribute("rel")))

    visited = walk_patient_journey(page, demo=demo, user=user, on_page=on_page)

    assert len(visited) >= 20
    assert len(requests) >= len(visited)
    # Nothing leaves the origin: scheme, host and port all equal the live server's.
    foreign = [
        r.url
        for r in requests
        if not r.url.startswith("data:")
        and (urlsplit(r.url).scheme, urlsplit(r.url).netloc)
        != (origin.scheme, origin.netloc)
    ]
    assert foreign == []
    # Referrer-Policy no-referrer: no request carries a Referer at all.
    # (A resource served from the browser's cache shows an empty "referer" among
    # its provisional headers: nothing was sent, so only a non-empty value counts.)
    with_referer = [
        (r.url, r.all_headers()["referer"])
        for r in requests
        if r.all_headers().get("referer")
    ]
    assert with_referer == []
    # The search term goes to our own /search and nowhere else: not in another
    # request's URL, headers or body.
    searched = [r for r in requests if urlsplit(r.url).path == "/search/"]
    assert any(_mentions(r.url) for r in searched)
    leaks = [
        r.url
        for r in requests
        if urlsplit(r.url).path != "/search/"
        and (
            _mentions(r.url)
            or any(_mentions(v) for v in r.all_headers().values())
            or _mentions(r.post_data)
        )
    ]
    assert leaks == []
    # Every page and partial (HTML) is served with the strict CSP and no-referrer.
    html = [
        r
        for r in responses
        if r.headers.get("content-type", "").startswith("text/html")
    ]
    assert len(html) >= len(visited)
    assert [r.url for r in html if "content-security-policy" not in r.headers] == []
    assert [
        r.url for r in html if r.headers.get("referrer-policy") != "no-referrer"
    ] == []
    assert all(
        "script-src" in r.headers["content-security-policy"]
        and "'unsafe-inline'" not in r.headers["content-security-policy"]
        for r in html
    )
    # No CSP violation reported: no inline script or style ran, nothing was blocked.
    assert page.problems.csp_violations == []
    assert inline_scripts == []
    assert page.problems.page_errors == []
    # The only errors in the console: pages answering 404, 409 or 410 on purpose.
    documents = {r.url for r in responses if r.request.resource_type == "document"}
    assert [
        (text, url)
        for text, url in page.problems.console_errors
        if not (text.startswith("Failed to load resource") and url in documents)
    ] == []
    assert [
        (label, href, rel)
        for label, href, rel in external_links
        if "noreferrer" not in (rel or "").split()
    ] == []
