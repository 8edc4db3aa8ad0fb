"""Wagtail's redirects (admin: Settings → Redirects) answered without a query once known.

Wagtail's ``RedirectMiddleware`` looks every 404 up in the redirects table, once or twice (with and without the
query string), and a redirect to a page then reads that page for its URL. Here each answer ("redirect to this
link, permanently or not", or "no redirect") is kept in the web process for the content generation it was read
under (redirects move the generation: ``portal.core.generation``) and at most ``CONTENT_MEMO_SECONDS``, in a
table of its own (``LOCAL_MAX_ENTRIES``), so random 404 paths cannot push out the other memos. A redirect it
answers is marked so the page cache may keep it for anonymous visitors like a page (``portal.core.cache``).
"""

from __future__ import annotations

from urllib.parse import urlparse

from django import http

from wagtail.contrib.redirects.middleware import RedirectMiddleware, get_redirect
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Site

from portal.core import memo

LOCAL_MAX_ENTRIES = 1024
SITE_REDIRECT_ATTR = "_portal_site_redirect"
_NONE = ("", False, "none")  # "no redirect here", as a value the table keeps

_answers = memo.LocalCopies(LOCAL_MAX_ENTRIES, memo.process_seconds)


def lookup(request, path: str) -> tuple[str, bool] | None:
    """(link, permanent) of the redirect for this path on the request's site, or None."""

    def read():
        redirect = get_redirect(request, path)
        if redirect is None or redirect.link is None:
            return None
        return redirect.link, redirect.is_permanent

    generation = memo.request_generation()
    if generation is None:
        return read()
    site = Site.find_for_request(request)
    key = (generation, getattr(site, "pk", None), path)
    answer = _answers.get(key)
    if answer is None:
        answer = read() or _NONE
        _answers.put(key, answer)
    return None if answer == _NONE else answer


class CachedRedirectMiddleware(RedirectMiddleware):
    """Wagtail's ``RedirectMiddleware`` with memoised lookups (same rules: the full path first, then without
    the query string)."""

    def process_response(self, request, response):
        if response.status_code != 404:
            return response
        path = Redirect.normalise_path(request.get_full_path(), decode_unicode=False)
        answer = lookup(request, path) or _lookup_without_query(request, path)
        if answer is None:
            return response
        link, permanent = answer
        setattr(request, SITE_REDIRECT_ATTR, True)
        redirect = http.HttpResponsePermanentRedirect if permanent else http.HttpResponseRedirect
        return redirect(link)


def _lookup_without_query(request, path: str) -> tuple[str, bool] | None:
    """The redirect for the path without its query string (None when it has none: the full path was asked)."""
    bare = urlparse(path).path
    return lookup(request, bare) if bare != path else None
