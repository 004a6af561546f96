"""Security headers every response carries (DESIGN invariant 5: nothing leaves the origin).

`SecurityHeadersMiddleware` extends django-csp's middleware, so `request.csp_nonce`
(`{{ request.csp_nonce }}` in templates) and django-csp's view decorators
(`csp_update`, `csp_replace`, `csp_exempt`) work as documented. On top of it:

* pages (HTML, and JavaScript, which a worker runs under its own response's
  policy) get `settings.CONTENT_SECURITY_POLICY`; every other response (JSON,
  images, files) gets the closed `settings.NON_HTML_CONTENT_SECURITY_POLICY`;
* `Permissions-Policy` from `settings.PERMISSIONS_POLICY`, which a view can
  widen for camera and microphone with `allow_camera_and_microphone`;
* `Cross-Origin-Resource-Policy` from `settings.CROSS_ORIGIN_RESOURCE_POLICY`
  (same-origin: another site's page cannot embed our data as an image or script);
* `Cache-Control: no-store` on every response that may carry health data: under
  `settings.NO_STORE_PATH_PREFIXES` (the API), to an authenticated user, or from
  a view decorated with `no_store`; a page that used the CSP nonce is `private`.

Headers a view set itself are kept, except a weaker `Cache-Control` on health data.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any, TypeVar

from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.utils.cache import patch_cache_control

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

NO_STORE_ATTR = "_carnet_no_store"
PERMISSIONS_ATTR = "_carnet_permissions"

# Content types the page policy applies to. A dedicated worker runs under the
# policy of its own script's response, so scripts get the page policy too.
PAGE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/javascript",
        "application/javascript",
    }
)


def _mark_responses(attribute: str, value: object) -> Callable[[ViewT], ViewT]:
    """A view decorator setting `attribute` on the view's responses (sync or async)."""

    def decorator(view: ViewT) -> ViewT:
        if iscoroutinefunction(view):

            async def _async_view(*args: Any, **kwargs: Any) -> Any:
                response = await view(*args, **kwargs)
                setattr(response, attribute, value)
                return response

            return wraps(view)(_async_view)  # type: ignore[return-value]

        def _view(*args: Any, **kwargs: Any) -> Any:
            response = view(*args, **kwargs)
            setattr(response, attribute, value)
            return response

        return wraps(view)(_view)  # type: ignore[return-value]

    return decorator


def no_store(view: ViewT) -> ViewT:
    """Mark a view's responses as carrying health data: `Cache-Control: no-store`."""
    return _mark_responses(NO_STORE_ATTR, True)(view)


def allow_camera_and_microphone(view: ViewT) -> ViewT:
    """Let a view's pages (video consultations) use the camera and microphone.

    Only this origin gets them (`camera=(self)`, `microphone=(self)`), never
    a frame from elsewhere; every other page keeps them denied.
    """
    return _mark_responses(
        PERMISSIONS_ATTR, {"camera": ["self"], "microphone": ["self"]}
    )(view)


def render_permissions_policy(policy: Mapping[str, Sequence[str]]) -> str:
    """The Permissions-Policy header for `{feature: allowlist}`; [] denies the feature.

    "self" and "*" are keywords; anything else is an origin, quoted as the
    structured-field syntax requires.
    """

    def member(origin: str) -> str:
        return origin if origin in {"self", "*"} else f'"{origin}"'

    return ", ".join(
        f"{feature}=({' '.join(member(o) for o in allowlist)})"
        for feature, allowlist in policy.items()
    )


def _content_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _carries_health_data(request: HttpRequest, response: HttpResponseBase) -> bool:
    if getattr(response, NO_STORE_ATTR, False):
        return True
    if request.path_info.startswith(tuple(settings.NO_STORE_PATH_PREFIXES)):
        return True
    # Set by AuthenticationMiddleware; absent for static files WhiteNoise served.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware(CSPMiddleware):
    """Content-Security-Policy with a per-request nonce, Permissions-Policy, Cache-Control.

    Sits right after Django's SecurityMiddleware (which sets HSTS,
    Referrer-Policy, X-Content-Type-Options and Cross-Origin-Opener-Policy).
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            _content_type(response) not in PAGE_CONTENT_TYPES
            and CSP_HEADER not in response
            and not getattr(response, "_csp_exempt", False)
        ):
            response[CSP_HEADER] = settings.NON_HTML_CONTENT_SECURITY_POLICY
        response = super().process_response(request, response)

        if "Permissions-Policy" not in response:
            policy = {
                **settings.PERMISSIONS_POLICY,
                **getattr(response, PERMISSIONS_ATTR, {}),
            }
            response["Permissions-Policy"] = render_permissions_policy(policy)
        if "Cross-Origin-Resource-Policy" not in response:
            response["Cross-Origin-Resource-Policy"] = (
                settings.CROSS_ORIGIN_RESOURCE_POLICY
            )

        if _carries_health_data(request, response):
            if "no-store" not in response.get("Cache-Control", ""):
                response["Cache-Control"] = "no-store"
        elif isinstance(getattr(request, "_csp_nonce", None), str):
            # A nonce is single-use: a shared cache must not serve it to others.
            patch_cache_control(response, private=True)
        return response


class CsrfViewMiddleware(DjangoCsrfViewMiddleware):
    """Django's CSRF protection, compatible with `Referrer-Policy: no-referrer`.

    Under `no-referrer`, browsers send `Origin: null` on every POST (Fetch
    standard), which Django's origin check refuses, so no form could be
    posted. A request whose `Origin` is `null` is accepted as same-origin only
    when the browser itself says so with `Sec-Fetch-Site: same-origin` (a
    header no page script can set); the CSRF token is still required.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        return super()._origin_verified(request)
