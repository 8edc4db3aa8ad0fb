"""Which language a request is in: Django's LocaleMiddleware with the portal's two rules.

Pages and site views live under a language prefix (``/fr/...``, ``i18n_patterns``). Machine endpoints
(API, health, robots.txt, sitemap, webhooks, newsletter links already sent in emails, documents) stay
unprefixed and are never redirected. The unprefixed root redirects to the remembered language (a cookie
set whenever a visitor reads a page in a language) or else the browser's ``Accept-Language``.
"""

from __future__ import annotations

from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

from portal.core.i18n import language_of_path, remember_language, shows_new_language

# Unprefixed paths that must answer as they are: a 404 there stays a 404 instead of becoming a redirect
# to a language-prefixed URL (RFC 8058 forbids redirecting the one-click unsubscribe POST, and machines
# should never be bounced around).
UNPREFIXED_PATHS = (
    "/api/", "/health/", "/robots.txt", "/sitemap.xml", "/newsletter/", "/documents/", "/admin/", "/static/",
    "/media/", "/feeds/", "/statistics-data/", "/members/", "/language/",
)


# Unprefixed views whose pages are rendered in the negotiated language (the others do not vary by language:
# the unprefixed feeds are always in the default language, the API and machine endpoints have no prose).
NEGOTIATED_PATHS = ("/newsletter/", "/members/", "/language/")


class PortalLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, with two portal rules.

    - Machine endpoints and links already sent in emails (``UNPREFIXED_PATHS``) are never redirected,
      even when they answer 404.
    - Reading a page under a language prefix remembers that language in a cookie, so the next visit to
      ``/`` lands there. The cookie always names the language of the URL it comes with, so a cache that
      replays the response replays a correct cookie.
    """

    def process_response(self, request, response):
        try:
            return self._process_response(request, response)
        finally:
            # The response is rendered: leave the thread in the default language, so work done after this
            # request (a test, a task run eagerly) does not inherit the reader's language.
            translation.deactivate()

    def _process_response(self, request, response):
        path = request.path_info
        if path.startswith(NEGOTIATED_PATHS):
            # Rendered in the remembered or browser language (or the subscriber's, for emailed links).
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        if path.startswith(UNPREFIXED_PATHS):
            return response
        response = super().process_response(request, response)
        language = language_of_path(path)
        if request.method == "GET" and shows_new_language(request, response, language):
            remember_language(response, language)
        return response
