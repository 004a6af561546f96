"""Security headers (carnet.core.security): CSP, Permissions-Policy, Cache-Control, cookies."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.test import Client, override_settings
from django.urls import include, path

from carnet.core.security import allow_camera_and_microphone, no_store

# Throw-away views, served through this module as ROOT_URLCONF.

NONCE_PAGE = engines["django"].from_string(
    '<!DOCTYPE html><title>t</title><script nonce="{{ request.csp_nonce }}">'
    "document.title = 'ok';</script>"
)


def nonce_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(NONCE_PAGE.render({}, request))


def plain_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!DOCTYPE html><title>t</title><p>hello</p>")


@allow_camera_and_microphone
def video_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!DOCTYPE html><title>video</title>")


@allow_camera_and_microphone
async def async_video_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!DOCTYPE html><title>video</title>")


@no_store
def marked_page(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("<!DOCTYPE html><title>t</title>")
    response["Cache-Control"] = "public, max-age=600"
    return response


def cacheable_page(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("<!DOCTYPE html><title>t</title>")
    response["Cache-Control"] = "public, max-age=600"
    return response


def json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("nonce/", nonce_page),
    path("plain/", plain_page),
    path("video/", video_page),
    path("async-video/", async_video_page),
    path("marked/", marked_page),
    path("cacheable/", cacheable_page),
    path("json/", json_view),
    path("api/cacheable/", cacheable_page),
    path("", include("config.urls")),
]

throwaway_urls = override_settings(ROOT_URLCONF=__name__)

PAGE_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice in {header}"
        parsed[name] = values
    return parsed


def permissions(header: str) -> dict[str, str]:
    return {
        feature.strip(): allowlist
        for feature, allowlist in (item.split("=", 1) for item in header.split(","))
    }


def test_a_page_gets_the_strict_policy(db):
    response = Client().get("/")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == PAGE_DIRECTIVES


@throwaway_urls
def test_a_page_that_uses_the_nonce_gets_a_fresh_one_in_its_policy(db):
    client = Client()

    first = client.get("/nonce/")
    second = client.get("/nonce/")

    nonces = []
    for response in (first, second):
        (nonce,) = re.findall(r'<script nonce="([^"]+)">', response.content.decode())
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert len(nonce) >= 22
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("url", ["/", "/api/docs", "/accounts/login/", "/nonce/"])
@throwaway_urls
def test_no_policy_allows_inline_code_eval_or_another_origin(db, url):
    header = Client().get(url)["Content-Security-Policy"]

    assert "unsafe" not in header
    assert "*" not in header
    for values in directives(header).values():
        for value in values:
            assert value.startswith("'") or value == "data:", header


@throwaway_urls
def test_json_and_other_non_html_responses_get_the_closed_policy(db):
    client = Client()
    svg = client.get(settings.STATIC_URL.rstrip("/") + "/ninja/favicon.svg")

    for response in (
        client.get("/json/"),
        client.get("/api/v1/practitioners"),
        client.get("/api/v1/agendas/999999/availability", {"motive": 1}),
        svg,
    ):
        assert response["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        ), response.request["PATH_INFO"]


def test_a_script_gets_the_page_policy_which_a_worker_would_run_under(db):
    response = Client().get("/static/ninja/swagger-ui-init.js")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == PAGE_DIRECTIVES


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in_script: dict[str, str | None] | None = None
        self.inline_scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = dict(attrs) if tag == "script" else None

    def handle_data(self, data):
        if self._in_script is not None and data.strip():
            self.inline_scripts.append(self._in_script.get("type") or "")

    def handle_endtag(self, tag):
        self._in_script = None


def assert_runs_under_the_policy(html: str) -> list[str]:
    """No inline code or style the policy would block; returns the same-origin URLs used."""
    parser = _Tags()
    parser.feed(html)
    urls = []
    for tag, attrs in parser.tags:
        assert "style" not in attrs, (tag, attrs)
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert tag != "style" or "nonce" in attrs, (tag, attrs)
        for name in ("src", "href", "action"):
            value = attrs.get(name)
            if value is None:
                continue
            assert not value.startswith("javascript:"), (tag, attrs)
            assert not re.match(r"^(https?:)?//", value), (tag, attrs)
            if tag in {"script", "link", "img"}:
                urls.append(value)
    # Inline <script> blocks are data (JSON) only; code comes from files.
    assert all(kind.endswith("json") for kind in parser.inline_scripts), (
        parser.inline_scripts
    )
    return urls


def test_the_api_documentation_page_works_under_the_policy(db):
    client = Client()

    docs = client.get("/api/docs")

    assert docs.status_code == 200
    assert directives(docs["Content-Security-Policy"]) == PAGE_DIRECTIVES
    urls = assert_runs_under_the_policy(docs.content.decode())
    assert set(urls) >= {
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
        "/static/ninja/swagger-ui.css",
    }
    for url in urls:
        assert client.get(url).status_code == 200, url
    # Swagger UI's stylesheet inlines its icons as data: URIs; nothing else.
    css = client.get("/static/ninja/swagger-ui.css")
    css_text = b"".join(css.streaming_content).decode()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css_text)
    assert "@import" not in css_text
    assert client.get("/api/openapi.json").status_code == 200


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("root@example.test", "pw")
    client = Client()
    client.force_login(user)
    return client


WITHOUT_MFA_GATE = override_settings(
    MIDDLEWARE=[m for m in settings.MIDDLEWARE if not m.endswith(".StaffMfaMiddleware")]
)


@WITHOUT_MFA_GATE
@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/booking/appointment/",
        "/admin/booking/appointment/add/",
        "/admin/scheduling/openingrule/add/",
        "/admin/password_change/",
    ],
)
def test_admin_pages_work_under_the_policy(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == PAGE_DIRECTIVES
    for static in assert_runs_under_the_policy(response.content.decode()):
        if static.startswith(settings.STATIC_URL):
            name = static.removeprefix(settings.STATIC_URL).split("?")[0]
            assert finders.find(name), static


def test_the_admin_login_works_under_the_policy(db):
    response = Client().get("/admin/login/", follow=True)

    assert response.status_code == 200
    assert_runs_under_the_policy(response.content.decode())


def test_permissions_policy_denies_powerful_features_and_keeps_geolocation_here(db):
    policy = permissions(Client().get("/")["Permissions-Policy"])

    for feature in ("camera", "microphone", "payment", "usb", "display-capture"):
        assert policy[feature] == "()", feature
    assert policy["geolocation"] == "(self)"
    # Passkeys (allauth.mfa WebAuthn) need these: never denied.
    assert "publickey-credentials-get" not in policy
    assert "publickey-credentials-create" not in policy


@throwaway_urls
@pytest.mark.parametrize("url", ["/video/", "/async-video/"])
def test_a_video_page_may_use_camera_and_microphone_of_this_origin_only(db, url):
    client = Client()

    video = permissions(client.get(url)["Permissions-Policy"])
    other = permissions(client.get("/plain/")["Permissions-Policy"])

    assert video["camera"] == video["microphone"] == "(self)"
    assert other["camera"] == other["microphone"] == "()"
    assert {k: v for k, v in video.items() if k not in {"camera", "microphone"}} == {
        k: v for k, v in other.items() if k not in {"camera", "microphone"}
    }


@throwaway_urls
def test_every_response_says_no_referrer_nosniff_no_framing_and_same_origin(db):
    client = Client()

    for response in (client.get("/plain/"), client.get("/json/")):
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Resource-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@throwaway_urls
def test_api_responses_are_never_stored(db, patient):
    client = Client()

    for response in (
        client.get("/api/v1/practitioners"),
        client.get("/api/v1/agendas/999999/availability", {"motive": 1}),
        client.get("/api/cacheable/"),
    ):
        assert response["Cache-Control"] == "no-store", response.request["PATH_INFO"]


@throwaway_urls
def test_responses_to_an_authenticated_user_are_never_stored(db, patient):
    client = Client()
    client.force_login(patient.account)

    assert client.get("/")["Cache-Control"] == "no-store"
    assert client.get("/cacheable/")["Cache-Control"] == "no-store"


@throwaway_urls
def test_a_view_marked_no_store_is_never_stored(db):
    assert Client().get("/marked/")["Cache-Control"] == "no-store"


@throwaway_urls
def test_anonymous_public_pages_and_static_files_may_be_cached(db):
    client = Client()

    assert "Cache-Control" not in client.get("/plain/")
    assert client.get("/cacheable/")["Cache-Control"] == "public, max-age=600"
    static = client.get("/static/ninja/swagger-ui.css")
    assert "public" in static["Cache-Control"]
    assert "no-store" not in static["Cache-Control"]


@throwaway_urls
def test_a_page_carrying_a_nonce_is_not_kept_by_shared_caches(db):
    assert Client().get("/nonce/")["Cache-Control"] == "private"


def test_development_and_test_settings_send_no_hsts(db):
    response = Client().get("/", secure=True)

    assert "Strict-Transport-Security" not in response
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"


PROD_PROBE = """
import json
import django
from django.conf import settings
django.setup()
import tempfile
from django.core.management import call_command
from django.test.utils import override_settings
# Production serves hashed static names from collectstatic's manifest.
override_settings(STATIC_ROOT=tempfile.mkdtemp()).enable()
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
https = Client().get("/", secure=True)
http = Client().get("/")
names = [
    "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_PATH", "CSRF_COOKIE_DOMAIN", "DEBUG",
]
print(json.dumps({
    "settings": {name: getattr(settings, name) for name in names},
    "https": dict(https.headers),
    "http_status": http.status_code,
    "http_location": http.headers.get("Location"),
}))
"""


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    """Production settings, loaded in a child process with the variables they require."""
    tmp = tmp_path_factory.mktemp("prod")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CARNET_", "DJANGO_", "DATABASE_URL"))
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "CARNET_SECRET_KEY": "probe-only-" + "x" * 40,
        "CARNET_DATABASE_URL": f"sqlite:///{tmp / 'never-created.sqlite3'}",
        "CARNET_ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PROD_PROBE],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_for_two_years_and_redirects_to_https(prod):
    assert prod["https"]["Strict-Transport-Security"] == (
        "max-age=63072000; includeSubDomains"
    )
    assert prod["http_status"] == 301
    assert prod["http_location"].startswith("https://")


def test_production_headers_match_the_development_ones(prod):
    headers = prod["https"]

    assert directives(headers["Content-Security-Policy"]) == PAGE_DIRECTIVES
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert permissions(headers["Permissions-Policy"])["camera"] == "()"


def test_production_cookies_are_host_only_secure_and_lax(prod):
    assert prod["settings"] == {
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_PATH": "/",
        "CSRF_COOKIE_DOMAIN": None,
        "DEBUG": False,
    }
