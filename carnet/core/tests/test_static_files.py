"""Static files: our bundle and stylesheet exist, and production serves them well.

Production (config/settings/prod.py, from base.py) stores them with WhiteNoise's
CompressedManifestStaticFilesStorage: `collectstatic` writes hashed names and .gz
copies, and WhiteNoise serves the hashed names for ever (`immutable`), compressed when
the browser accepts it. Development and tests serve them straight from the apps.
"""

import gzip
import re
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

STATIC = Path(__file__).resolve().parents[1] / "static" / "carnet"
MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


def test_production_uses_the_compressed_manifest_storage():
    from config.settings import base

    assert (
        base.STORAGES["staticfiles"]["BACKEND"]
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE


def test_the_bundle_and_the_stylesheet_are_found():
    for name in ["carnet/carnet.js", "carnet/carnet.css", "carnet/favicon.svg"]:
        assert finders.find(name), name


def test_the_bundle_is_built_and_loads_nothing_from_elsewhere():
    bundle = (STATIC / "carnet.js").read_text()

    assert bundle.startswith("/* Carnet: built from frontend/src")
    assert "htmx" in bundle
    assert "sourceMappingURL" not in bundle
    assert not re.search(r"https?://(?!www\.w3\.org)", bundle)


def test_the_stylesheet_loads_no_font_or_file_from_elsewhere():
    css = (STATIC / "carnet.css").read_text()

    assert "@import" not in css
    assert "@font-face" not in css
    assert "url(" not in css
    assert "prefers-reduced-motion" in css
    assert ":focus-visible" in css


@pytest.fixture
def collected(tmp_path):
    """collectstatic of our files alone with the production storage, into tmp_path."""
    ignore = ["admin", "ninja", "mfa", "account", "rest_framework", "usersessions"]
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES=MANIFEST_STORAGES,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
        DEBUG=False,
    ):
        call_command(
            "collectstatic", interactive=False, verbosity=0, ignore_patterns=ignore
        )
        yield tmp_path


def _serve(path, **headers):
    middleware = WhiteNoiseMiddleware(get_response=lambda request: None)
    request = RequestFactory().get(path, **headers)
    return middleware(request)


def test_hashed_names_are_served_for_ever_and_compressed(collected):
    hashed = next((collected / "carnet").glob("carnet.*.css")).name
    assert re.fullmatch(r"carnet\.[0-9a-f]{12}\.css", hashed)
    assert (collected / "carnet" / f"{hashed}.gz").exists()

    assert (collected / "carnet" / f"{hashed}.br").exists()

    brotli_response = _serve(
        f"/static/carnet/{hashed}", HTTP_ACCEPT_ENCODING="gzip, br"
    )
    response = _serve(f"/static/carnet/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))
    assert max_age >= 365 * 24 * 3600
    assert brotli_response["Content-Encoding"] == "br"
    assert (
        brotli.decompress(b"".join(brotli_response.streaming_content))
        == (STATIC / "carnet.css").read_bytes()
    )
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(body) == (STATIC / "carnet.css").read_bytes()


def test_unhashed_names_are_only_cached_briefly(collected):
    response = _serve("/static/carnet/carnet.js")

    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
