"""Carnet's templates hold nothing the Content-Security-Policy would block or that
loads from another origin (DESIGN invariant 5): code and styles come from our
static files; an inline block needs the request's nonce.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(
    [*ROOT.glob("templates/**/*.html"), *ROOT.glob("carnet/*/templates/**/*.html")]
)

FORBIDDEN = {
    "inline event handler": re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.I),
    "style attribute": re.compile(r"""<[^>]*\sstyle\s*=""", re.I),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
    "another origin": re.compile(
        r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I
    ),
    "inline <style> without the nonce": re.compile(
        r"""<style(?![^>]*\snonce=)[^>]*>""", re.I
    ),
    "inline <script> without the nonce": re.compile(
        r"""<script(?![^>]*\s(?:src|nonce)=)(?![^>]*type=["']application/(?:ld\+)?json)[^>]*>""",
        re.I,
    ),
    "CSS import from elsewhere": re.compile(
        r"""@import\s+(?:url\()?["']?(?:https?:)?//""", re.I
    ),
}


def problems(text: str) -> set[str]:
    return {name for name, pattern in FORBIDDEN.items() if pattern.search(text)}


def test_templates_are_found():
    assert ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_template_runs_under_the_content_security_policy(template):
    text = template.read_text()

    assert problems(text) == set()


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ('<a href="#" onclick="go()">', "inline event handler"),
        ('<p style="color: red">', "style attribute"),
        ('<a href="javascript:go()">', "javascript: URL"),
        ('<script src="https://cdn.example/htmx.js"></script>', "another origin"),
        ('<link href="//fonts.example/css">', "another origin"),
        ("<style>p { color: red }</style>", "inline <style> without the nonce"),
        ("<script>go()</script>", "inline <script> without the nonce"),
        ('<a href="https://www.openstreetmap.org/">', "another origin"),
        (
            '<a rel="noreferrer" href="/x"><img src="https://x.example/p.png">',
            "another origin",
        ),
    ],
)
def test_the_checks_catch_what_they_look_for(snippet, problem):
    assert problem in problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'carnet/app.js' %}\" defer></script>",
        '<script nonce="{{ request.csp_nonce }}">go()</script>',
        '<script type="application/json" id="data">{}</script>',
        '<style nonce="{{ request.csp_nonce }}">p {}</style>',
        '<a href="/api/docs">',
    ],
)
def test_the_checks_let_what_the_policy_allows_through(snippet):
    assert problems(snippet) == set()
