"""The page language: the switcher's choice first, then the account's, then the browser's.

Django's LocaleMiddleware picks the language from the language cookie (set by the
switcher), else the browser's Accept-Language, else LANGUAGE_CODE.
`AccountLanguageMiddleware` (after LocaleMiddleware and AuthenticationMiddleware) puts
a logged-in user's account language (`user.language`) before the browser's: a patient
who never used the switcher reads the site, on any device, in the language of their
account. `set_language` is Django's view of that name, which also records the choice on
the account of a logged-in user.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

ACCOUNT_LANGUAGE_FIELD = "language"


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class AccountLanguageMiddleware:
    """Activate the account's language when the switcher's cookie does not say otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            language = _supported(getattr(user, ACCOUNT_LANGUAGE_FIELD, None))
            if language and language != translation.get_language():
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's `set_language` (cookie + redirect to `next`), remembered on the account."""
    response = django_set_language(request)
    language = _supported(request.POST.get("language"))
    user = getattr(request, "user", None)
    if (
        language
        and language == request.POST.get("language")
        and user is not None
        and user.is_authenticated
        and hasattr(user, ACCOUNT_LANGUAGE_FIELD)
        and getattr(user, ACCOUNT_LANGUAGE_FIELD) != language
    ):
        setattr(user, ACCOUNT_LANGUAGE_FIELD, language)
        user.save(update_fields=[ACCOUNT_LANGUAGE_FIELD])
    return response
