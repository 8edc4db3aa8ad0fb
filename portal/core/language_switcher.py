"""The language switcher and hreflang alternates: where each language's link goes from the page being read.

On a page, each language links to the page's translation the visitor may read, else to that language's home. On
views under a language prefix, to the same view in the other language; on views without one (newsletter and
members' pages, rendered in the remembered language), to ``/language/<code>/``, which remembers the choice and comes
back. Which translations a visitor may read is the privacy gate's answer (``privacy.visible_translations``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from wagtail.models import Page

from portal.core.i18n import content_languages, default_language, home_url, language_of_path, remember_language
from portal.core.privacy import Viewer, visible_translations


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switcher."""

    code: str
    name: str
    url: str
    current: bool
    translated: bool  # False: the link goes to that language's home, the page has no translation there


def switcher_links(request, page: Page | None = None) -> list[LanguageLink]:
    """The switcher's links for this request: on a page, to its translations (or the languages' homes); on a
    view, to the same view in each language."""
    current = translation.get_language() or default_language()
    if page is not None:
        targets = _page_targets(request, page)
    elif language_of_path(request.path_info) is not None:
        targets = _prefixed_view_targets(request.get_full_path(), current)
    else:
        targets = _unprefixed_view_targets(request.get_full_path())
    return [LanguageLink(code, name, url=targets[code][0], current=code == current, translated=targets[code][1])
            for code, name in content_languages()]


def _page_targets(request, page: Page) -> dict[str, tuple[str, bool]]:
    """(url, translated) by language: the page's translation the viewer may read, else that language's home."""
    translations = visible_translations(page, getattr(request, "user", None), request)
    return {code: _page_target(code, translations.get(code), request) for code, _name in content_languages()}


def _page_target(code: str, version: Page | None, request) -> tuple[str, bool]:
    url = version.get_url(request=request) if version is not None else None
    return url or home_url(code, request), version is not None


def _prefixed_view_targets(path: str, current: str) -> dict[str, tuple[str, bool]]:
    """(url, translated) by language for a view under a language prefix: the same view in that language (a URL
    Django cannot translate stays as it is, and counts as untranslated)."""
    targets = {}
    for code, _name in content_languages():
        url = translate_url(path, code)
        targets[code] = (url, url != path or code == current)
    return targets


def _unprefixed_view_targets(path: str) -> dict[str, tuple[str, bool]]:
    """(url, translated) by language for a view without a language prefix: the view that remembers the choice
    and comes back to ``path``."""
    query = "?" + urlencode({"next": path})
    return {code: (reverse("switch_language", args=[code]) + query, True) for code, _name in content_languages()}


def hreflang_alternates(page: Page, request=None) -> list[tuple[str, str]]:
    """(hreflang, absolute URL) for every public live language version of a page, plus ``x-default``.

    Only pages an anonymous visitor may read are listed: alternates are for search engines.
    """
    versions = visible_translations(page, Viewer.anonymous(), request)
    if len(versions) < 2:
        return []
    ordered = [(code, versions.get(code)) for code, _name in content_languages()]
    ordered.append(("x-default", versions.get(default_language())))
    urls = [(code, absolute_page_url(version)) for code, version in ordered if version is not None]
    return [(code, url) for code, url in urls if url]


def absolute_page_url(page: Page) -> str | None:
    """The page's canonical absolute URL on SITE_URL, with its language prefix."""
    parts = page.get_url_parts()
    if parts is None:
        return None
    return settings.SITE_URL + parts[2]


@never_cache
@require_safe
def switch_language(request, language: str):
    """`/language/<code>/?next=<path>`: remember a language chosen on an unprefixed page and go back there.

    Used by the switcher on views that have no language prefix (newsletter and members' pages), which
    render in the remembered language. An unknown language or an unsafe ``next`` goes to that language's home.
    """
    if language not in dict(content_languages()):
        language = default_language()
    target = _safe_next(request)
    if not target:
        target = home_url(language)
    elif language_of_path(target):
        target = translate_url(target, language)
    response = HttpResponseRedirect(target)
    remember_language(response, language)
    return response


def _safe_next(request) -> str:
    """The ``next`` address when it is on this site (and on HTTPS when the request is), else ""."""
    target = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return target if safe else ""
