"""Languages: the site's languages, the language of a path, the remembered choice, locales and homes.

Split by concern: ``portal.core.locale_middleware`` decides which language a request is in,
``portal.core.language_switcher`` draws the switcher and hreflang alternates, and which language versions of a page
a viewer may read (and how a restriction on one reaches the others) is the privacy gate's
(``portal.core.privacy``).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import post_migrate
from django.utils import translation

from wagtail.models import Locale, Page, Site

from portal.core import memo


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
    codes = dict(content_languages())
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


def shows_new_language(request, response, language: str | None) -> bool:
    """Whether this response shows a page (a 200 in HTML) under a language prefix (``language``) other than the one
    the visitor's cookie remembers: then it sets the cookie (``remember_language``)."""
    return bool(
        language
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language
    )


# ---------------------------------------------------------------------------------------------------------
# Locales and homes


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


def current_site(request=None) -> Site | None:
    """The Wagtail site serving this request (Wagtail keeps it on the request), else the default site."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    return site


_HOMES_ATTR = "_portal_homes"


def site_homes(request=None) -> dict[str, Page]:
    """The site's live home page in each language that has one, by language code (one query, kept on the
    request)."""
    return memo.on_request(request, _HOMES_ATTR, lambda: _read_site_homes(request))


def _read_site_homes(request) -> dict[str, Page]:
    site = current_site(request)
    if site is None:
        return {}
    pages = Page.objects.filter(translation_key=site.root_page.translation_key, live=True).select_related("locale")
    return {page.locale.language_code: page for page in pages}


def current_home(request=None) -> Page | None:
    """The site's home page in the language being read when it is translated and live, else the site's root page
    (None without a site)."""
    site = current_site(request)
    if site is None:
        return None
    return site_homes(request).get(translation.get_language()) or site.root_page


def localized_home(language: str, request=None) -> Page | None:
    """The site's home page in this language when it exists and is live, else None."""
    return site_homes(request).get(language)


def home_url(language: str, request=None) -> str:
    """The URL of this language's home page (``/fr/``), whether or not it has been translated yet."""
    home = localized_home(language, request)
    url = home.get_url(request=request) if home is not None else None
    return url or f"/{language}/"


def in_language_or_default(queryset, language: str | None = None):
    """Narrow a page queryset to pages in this language (the active one by default), plus default-language
    pages that have no live translation in it (subqueries only: no extra round trip)."""
    language = language or translation.get_language() or default_language()
    if language == default_language():
        return queryset.filter(locale__language_code=language)
    translated = Page.objects.filter(locale__language_code=language, live=True).values("translation_key")
    return queryset.filter(
        Q(locale__language_code=language)
        | (Q(locale__language_code=default_language()) & ~Q(translation_key__in=translated))
    )


def connect_signals() -> None:
    """Create missing locales after migrate (called from the core app's ready()).

    View restrictions are not copied between language versions: the privacy gate's effective-restriction rule
    (``portal.core.privacy``) already applies a restriction on any language version to all of them, so nothing
    here ever adds or deletes a restriction row as a side effect of saving a page.
    """
    post_migrate.connect(ensure_locales, dispatch_uid="portal_i18n_ensure_locales")
