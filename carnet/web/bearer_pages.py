"""Pages whose address is a credential: the one-click links of our messages.

The action links of a reminder (/a/<token>/) and a waiting-list offer
(/offers/<token>/) carry a bearer token in their path. Their answers are
never cached, never sent as a Referer, kept out of search engines, and their
refusals are not logged by Django (whose "Not Found: <path>" would hold the
token).
"""

from django.http import HttpResponse


def private(response: HttpResponse) -> HttpResponse:
    """`response` with the headers of a page whose address is a credential."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    if response.status_code >= 400:
        # django.request would log "<reason>: <path>", the path holding the token.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response
