"""base.html and the pages every visitor may meet: layout, language switcher, errors."""

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse

from carnet.core.language import AccountLanguageMiddleware
from config import urls as project_urls


@pytest.fixture
def client():
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        "ada@example.org", "correct horse battery", language="de"
    )


def _page(client, url="/", **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200
    return response.content.decode()


def test_the_layout_has_the_landmarks_and_one_bundle(client, db):
    html = _page(client)

    assert '<html lang="fr">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert html.count("<script") == 1
    assert 'src="/static/carnet/carnet.js" defer' in html
    assert 'href="/static/carnet/carnet.css"' in html
    assert '<meta name="htmx-config"' in html
    assert '"allowEval":false' in html
    assert " style=" not in html
    assert 'href="/api/docs"' in html
    assert "<footer" in html


def test_anonymous_visitors_get_log_in_and_sign_up_links_keeping_the_page(client, db):
    html = _page(client, "/?q=x")

    assert 'href="/accounts/login/?next=/%3Fq%3Dx"' in html
    assert 'href="/accounts/signup/?next=/%3Fq%3Dx"' in html
    assert reverse("web:me") not in html


def test_on_the_log_in_page_the_links_keep_next(client, db):
    html = _page(client, "/accounts/login/?next=/book/1/2/")

    assert 'href="/accounts/signup/?next=/book/1/2/"' in html
    # allauth's own form keeps it too.
    assert 'name="next" value="/book/1/2/"' in html


def test_logged_in_users_get_their_appointments_and_a_log_out_form(client, user):
    client.force_login(user)
    html = _page(client)

    assert f'href="{reverse("web:me")}"' in html
    assert f'action="{reverse("account_logout")}"' in html
    assert 'class="link-button"' in html


def test_the_language_switcher_lists_each_language_in_its_own_name(client, db):
    html = _page(client, "/?q=x")

    assert f'action="{reverse("set_language")}"' in html
    assert '<input type="hidden" name="next" value="/?q=x">' in html
    for code, name in [
        ("fr", "Français"),
        ("de", "Deutsch"),
        ("it", "Italiano"),
        ("en", "English"),
    ]:
        assert f'<option value="{code}" lang="{code}"' in html
        assert f">{name}</option>" in html


def test_switching_language_sets_the_cookie_and_goes_back(client, db):
    response = client.post(reverse("set_language"), {"language": "it", "next": "/?q=x"})

    assert response.status_code == 302
    assert response["Location"] == "/?q=x"
    assert response.cookies["django_language"].value == "it"
    assert '<html lang="it">' in _page(client)


def test_the_account_language_applies_until_the_switcher_is_used(client, user):
    client.force_login(user)
    assert '<html lang="de">' in _page(client, HTTP_ACCEPT_LANGUAGE="fr")

    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    user.refresh_from_db()
    assert user.language == "en"
    assert '<html lang="en">' in _page(client)


def test_an_unknown_language_changes_nothing(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    user.refresh_from_db()
    assert user.language == "de"


def test_the_middleware_leaves_anonymous_visitors_alone():
    request = RequestFactory().get("/")

    class Anonymous:
        is_authenticated = False

    request.user = Anonymous()
    response = AccountLanguageMiddleware(lambda r: HttpResponse("ok"))(request)

    assert response.status_code == 200


def _messages_view(request):
    messages.success(request, "Saved.")
    messages.error(request, "Refused.")
    return render(request, "base.html")


# This module is the URLconf of the test below: one view, then the project's routes
# (base.html links to them by name).
urlpatterns = [path("messages/", _messages_view), *project_urls.urlpatterns]


@override_settings(ROOT_URLCONF="carnet.core.tests.test_layout")
def test_messages_are_status_or_alert(client, db):
    html = _page(client, "/messages/")

    assert '<p class="alert alert--success" role="status">Saved.</p>' in html
    assert '<p class="alert alert--error" role="alert">Refused.</p>' in html


@override_settings(DEBUG=False)
@pytest.mark.parametrize("language", ["fr", "de", "it", "en"])
def test_404_is_friendly_and_in_the_layout(client, db, language):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()

    assert response.status_code == 404
    assert f'<html lang="{language}">' in html
    assert '<a class="skip-link"' in html
    assert f'href="{reverse("home")}"' in html


@pytest.mark.parametrize("template", ["500.html", "403_csrf.html"])
def test_pages_rendered_without_a_request_still_render(template):
    html = render_to_string(template)

    assert '<a class="skip-link"' in html
    assert "csrfmiddlewaretoken" not in html
    assert 'class="language-switcher"' not in html


@override_settings(DEBUG=False)
def test_a_refused_form_shows_the_csrf_page_in_the_layout(db):
    strict = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)

    response = strict.post(reverse("set_language"), {"language": "de"})

    assert response.status_code == 403
    assert '<a class="skip-link"' in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"],
)
def test_allauth_pages_use_the_layout_and_our_form_classes(client, db, url):
    html = _page(client, url)

    assert '<a class="skip-link"' in html
    assert 'class="container container--narrow auth-entrance"' in html
    assert 'class="form-field' in html
    assert 'class="button button--primary"' in html
    assert "· Carnet</title>" in html
    assert " style=" not in html


def test_allauth_account_pages_have_the_settings_tabs(client, user):
    client.force_login(user)
    response = client.get("/accounts/password/change/")
    html = response.content.decode()

    assert response.status_code == 200
    assert '<nav class="tabs"' in html
    assert 'aria-current="page">' in html
