"""Template tags for languages: the language switcher and ``<link rel="alternate" hreflang>`` elements."""

from __future__ import annotations

from django import template

from wagtail.models import Locale, Page

from portal.core import memo
from portal.core.language_switcher import hreflang_alternates, switcher_links

register = template.Library()


def _page(context):
    page = context.get("page")
    return page if isinstance(page, Page) else None


@register.inclusion_tag("components/i18n/language_switcher.html", takes_context=True)
def language_switcher(context):
    """The switcher: each language links to this page's translation, or to that language's home."""
    request = context.get("request")
    return {"links": switcher_links(request, _page(context)) if request is not None else []}


@register.inclusion_tag("components/i18n/hreflang.html", takes_context=True)
def hreflang_links(context):
    """``<link rel="alternate" hreflang>`` for every public language version of the current page."""
    page = _page(context)
    return {"alternates": hreflang_alternates(page, context.get("request")) if page is not None else []}


def _locale_codes() -> tuple[tuple[int, str], ...]:
    return tuple(Locale.objects.values_list("id", "language_code"))


@register.simple_tag(takes_context=True)
def content_language(context) -> str:
    """The language the page's content is written in ("" without a page): under /es/ a page that has no
    Spanish translation yet is the default language's page, and must say so (``lang`` and a notice)."""
    page = _page(context)
    if page is None or getattr(page, "locale_id", None) is None:
        return ""
    return dict(memo.remember(("locale-codes",), _locale_codes)).get(page.locale_id, "")
