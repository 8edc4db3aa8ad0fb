"""Languages: which language a request is in, the language switcher and hreflang alternates.

Pages and site views live under a language prefix (``/fr/...``, ``i18n_patterns``). Machine endpoints
(API, health, robots.txt, sitemap, webhooks, newsletter links already sent in emails, documents) stay
unprefixed and are never redirected. The unprefixed root redirects to the remembered language (a cookie
set whenever a visitor reads a page in a language) or else the browser's ``Accept-Language``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from wagtail.models import Locale, Page, Site

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


def content_languages() -> list[tuple[str, str]]:
    """(code, name in its own language) for every configured content language, default first."""
    return [(code, name) for code, name in settings.LANGUAGES]


def default_language() -> str:
    return settings.LANGUAGE_CODE


def language_of_path(path: str) -> str | None:
    """The language prefix of a path (``/fr/...`` gives ``fr``), or None for an unprefixed path."""
    return translation.get_language_from_path(path)


def supported_language(code: str | None) -> str:
    """``code`` if it is one of the site's languages (``fr-be`` gives ``fr``), else the default language."""
    codes = {language for language, _name in settings.LANGUAGES}
    code = (code or "").lower()
    if code in codes:
        return code
    if code.split("-")[0] in codes:
        return code.split("-")[0]
    return default_language()


def use_subscriber_language(request, subscriber) -> str:
    """Render the rest of this request in the subscriber's chosen language (pages reached from links in
    emails have no language prefix); returns the language."""
    language = supported_language(getattr(subscriber, "language", None))
    translation.activate(language)
    if request is not None:
        request.LANGUAGE_CODE = language
    return language


def is_unprefixed_endpoint(path: str) -> bool:
    return path.startswith(UNPREFIXED_PATHS)


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
        if is_unprefixed_endpoint(request.path_info):
            if request.path_info.startswith(NEGOTIATED_PATHS):
                # Rendered in the remembered or browser language (or the subscriber's, for emailed links).
                from django.utils.cache import patch_vary_headers

                patch_vary_headers(response, ("Accept-Language", "Cookie"))
                response.headers.setdefault("Content-Language", translation.get_language())
            return response
        response = super().process_response(request, response)
        language = language_of_path(request.path_info)
        if (
            language
            and request.method == "GET"
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language
        ):
            remember_language(response, language)
        return response


def remember_language(response, language: str) -> None:
    """Set the language cookie (a choice, not tracking: it holds only a language code)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path="/",
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


@never_cache
@require_safe
def switch_language(request, language: str):
    """`/language/<code>/?next=<path>`: remember a language chosen on an unprefixed page and go back there.

    Used by the switcher on views that have no language prefix (newsletter and members' pages), which
    render in the remembered language. An unknown language or an unsafe ``next`` goes to that language's home.
    """
    codes = {code for code, _name in settings.LANGUAGES}
    if language not in codes:
        language = default_language()
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = ""
    if not target:
        target = home_url(language)
    elif language_of_path(target):
        target = translate_url(target, language)
    response = HttpResponseRedirect(target)
    remember_language(response, language)
    return response


# ---------------------------------------------------------------------------------------------------------
# Locales, homes and translations


def ensure_locales(**kwargs) -> None:
    """Create a Wagtail Locale for every configured content language that has none (after migrate).

    Not after ``flush`` (which sends post_migrate without a migration plan): a test database being reset to its
    serialized state must not gain rows first.
    """
    if kwargs.get("plan") is None:
        return
    try:
        existing = set(Locale.objects.values_list("language_code", flat=True))
    except Exception:  # the table does not exist yet (an app migrated before wagtailcore)
        return
    for code, _name in settings.LANGUAGES:
        if code not in existing:
            Locale.objects.create(language_code=code)


def _default_site(request=None) -> Site | None:
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    return site


_HOMES_ATTR = "_portal_homes"
_TRANSLATIONS_ATTR = "_portal_translations"


def site_homes(request=None) -> dict[str, Page]:
    """The site's live home page in each language that has one, by language code (one query, cached on
    the request)."""
    cached = getattr(request, _HOMES_ATTR, None) if request is not None else None
    if cached is not None:
        return cached
    site = _default_site(request)
    homes: dict[str, Page] = {}
    if site is not None:
        pages = Page.objects.filter(translation_key=site.root_page.translation_key, live=True).select_related(
            "locale")
        homes = {page.locale.language_code: page for page in pages}
    if request is not None:
        setattr(request, _HOMES_ATTR, homes)
    return homes


def localized_home(language: str, request=None) -> Page | None:
    """The site's home page in this language when it exists and is live, else None."""
    return site_homes(request).get(language)


def home_url(language: str, request=None) -> str:
    """The URL of this language's home page (``/fr/``), whether or not it has been translated yet."""
    home = localized_home(language, request)
    if home is not None:
        url = home.get_url(request=request)
        if url:
            return url
    return f"/{language}/"


def page_translations(page: Page, viewer=None, request=None) -> dict[str, Page]:
    """Live translations of a page (itself included) the viewer may read, by language code.

    With a request, the result for each (page, viewer) is kept on it, so the switcher and the hreflang
    links of one page view share their queries.
    """
    from portal.core.privacy import as_viewer, visible_pages

    key = (page.pk, as_viewer(viewer) if viewer is not None else None)
    cache = getattr(request, _TRANSLATIONS_ATTR, None) if request is not None else None
    if cache is not None and key in cache:
        return cache[key]
    queryset = Page.objects.filter(translation_key=page.translation_key).select_related("locale")
    queryset = visible_pages(queryset, viewer) if viewer is not None else queryset.live()
    result = {translation.locale.language_code: translation for translation in queryset}
    if request is not None:
        if cache is None:
            cache = {}
            setattr(request, _TRANSLATIONS_ATTR, cache)
        cache[key] = result
    return result


def in_language_or_default(queryset, language: str | None = None):
    """Narrow a page queryset to pages in this language (the active one by default), plus default-language
    pages that have no live translation in it (subqueries only: no extra round trip)."""
    from django.db.models import Q

    language = language or translation.get_language() or default_language()
    if language == default_language():
        return queryset.filter(locale__language_code=language)
    translated = Page.objects.filter(locale__language_code=language, live=True).values("translation_key")
    return queryset.filter(
        Q(locale__language_code=language)
        | (Q(locale__language_code=default_language()) & ~Q(translation_key__in=translated))
    )


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switcher."""

    code: str
    name: str
    url: str
    current: bool
    translated: bool  # False: the link goes to that language's home, the page has no translation there


def switcher_links(request, page: Page | None = None) -> list[LanguageLink]:
    """The switcher's links: the page's translation in each language when it exists (and the viewer may
    read it), else that language's home; on views without a language prefix, a link that remembers the
    choice and comes back to the same view."""
    current = translation.get_language() or default_language()
    path = request.get_full_path() if request is not None else "/"
    prefixed = request is not None and language_of_path(request.path_info) is not None
    viewer = getattr(request, "user", None)
    translations = page_translations(page, viewer, request) if page is not None else {}
    links = []
    for code, name in content_languages():
        translated = False
        if code in translations:
            url = translations[code].get_url(request=request) or home_url(code, request)
            translated = True
        elif page is None and prefixed:
            url = translate_url(path, code)
            translated = url != path or code == current
        elif page is None:
            from django.urls import reverse
            from django.utils.http import urlencode

            url = reverse("switch_language", args=[code]) + "?" + urlencode({"next": path})
            translated = True
        else:
            url = home_url(code, request)
        links.append(LanguageLink(code, name, url, code == current, translated))
    return links


def hreflang_alternates(page: Page, request=None) -> list[tuple[str, str]]:
    """(hreflang, absolute URL) for every public live language version of a page, plus ``x-default``.

    Only pages an anonymous visitor may read are listed: alternates are for search engines.
    """
    from portal.core.privacy import Viewer

    versions = page_translations(page, Viewer.anonymous(), request)
    if len(versions) < 2:
        return []
    alternates = []
    for code, _name in content_languages():
        version = versions.get(code)
        if version is None:
            continue
        url = absolute_page_url(version)
        if url:
            alternates.append((code, url))
    default = versions.get(default_language())
    if default is not None:
        url = absolute_page_url(default)
        if url:
            alternates.append(("x-default", url))
    return alternates


def absolute_page_url(page: Page) -> str | None:
    """The page's canonical absolute URL on SITE_URL, with its language prefix."""
    parts = page.get_url_parts()
    if parts is None:
        return None
    return settings.SITE_URL + parts[2]


def connect_signals() -> None:
    """Create missing locales after migrate (called from the core app's ready()).

    View restrictions are not copied between language versions: the privacy gate's effective-restriction rule
    (``portal.core.privacy``) already applies a restriction on any language version to all of them, so nothing
    here ever adds or deletes a restriction row as a side effect of saving a page.
    """
    from django.db.models.signals import post_migrate

    post_migrate.connect(ensure_locales, dispatch_uid="portal_i18n_ensure_locales")
