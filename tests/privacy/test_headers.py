"""Every route, whichever app owns it, answers with the security headers (DESIGN invariant 5).

The routes are read from the URLconf, so a new app's pages are checked the day
they are added.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PAGE_POLICY_MUST_HAVE = {
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}
CLOSED_POLICY = "default-src 'none'; frame-ancestors 'none'"


def parameterless_routes(patterns=None, prefix="") -> list[str]:
    """Every URL of the URLconf that takes no parameter."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if re.search(r"[<>()\[\]\\?*+$^|{}]", route):
            continue
        if isinstance(pattern, URLResolver):
            routes += parameterless_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append("/" + route)
    return sorted(set(routes))


ROUTES = parameterless_routes()


def test_the_walk_finds_every_app():
    assert {
        "/",
        "/api/v1/practitioners",
        "/api/docs",
        "/admin/",
        "/accounts/login/",
    } <= set(ROUTES)


def check_headers(response, url: str, *, authenticated: bool) -> None:
    policy = response["Content-Security-Policy"]
    assert "unsafe" not in policy, url
    if response["Content-Type"].startswith(("text/html", "text/javascript")):
        assert {p.strip() for p in policy.split(";")} >= PAGE_POLICY_MUST_HAVE, url
    else:
        assert policy == CLOSED_POLICY, url
    assert response["Referrer-Policy"] == "no-referrer", url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert "camera=()" in response["Permissions-Policy"], url
    if authenticated or url.startswith(("/api/", "/accounts/", "/admin/", "/pro/")):
        assert response["Cache-Control"] == "no-store" or (
            "no-store" in response["Cache-Control"]
        ), url


@pytest.mark.parametrize("url", ROUTES)
def test_every_route_answers_with_the_security_headers(url, patient):
    anonymous = Client(raise_request_exception=False)
    logged_in = Client(raise_request_exception=False)
    logged_in.force_login(patient.account)

    check_headers(anonymous.get(url), url, authenticated=False)
    check_headers(logged_in.get(url), url, authenticated=True)


def origin_a_browser_sends(referrer_policy: str, origin: str) -> str:
    """The Origin header a browser puts on a same-origin form POST.

    Fetch, "serializing a request origin": under `no-referrer` it is "null".
    Chromium does so (checked on /accounts/login/ with Debian's Chromium).
    """
    return "null" if referrer_policy == "no-referrer" else origin


def test_a_browser_can_post_a_form_under_the_referrer_policy(patient):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = re.findall(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
    )[0]

    response = client.post(
        "/accounts/login/",
        {
            "login": patient.account.email,
            "password": "secret-password",
            "csrfmiddlewaretoken": token,
        },
        headers={
            "origin": origin_a_browser_sends(
                page["Referrer-Policy"], "http://testserver"
            ),
            "sec-fetch-site": "same-origin",
        },
    )

    assert response.status_code != 403


def test_a_cross_site_post_with_a_null_origin_is_refused(patient):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = re.findall(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
    )[0]

    response = client.post(
        "/accounts/login/",
        {
            "login": patient.account.email,
            "password": "secret-password",
            "csrfmiddlewaretoken": token,
        },
        headers={"origin": "null", "sec-fetch-site": "cross-site"},
    )

    assert response.status_code == 403
