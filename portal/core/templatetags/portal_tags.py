"""Template tags for the portal's theme: navigation, privacy-aware rendering, lock badges and SEO helpers.

Every decision about who may see a page goes through ``portal.core.privacy``; these tags only add
per-request caching so that listings stay at a bounded number of queries.
"""

from __future__ import annotations

import json

from django import template
from django.apps import apps
from django.conf import settings
from django.core.paginator import Page as PaginatorPage
from django.db.models import Q
from django.shortcuts import resolve_url
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext

from wagtail.models import Page

from django_countries import countries

from portal.core import i18n, memo, privacy

register = template.Library()

# Attributes used to cache per-request results on the request object.
_RESTRICTED_PATHS_ATTR = "_portal_restricted_paths"
_SITE_PAGES_ATTR = "_portal_site_pages"

# Where "Report illegal content" points: the hotline directory if the site has one, else the how-to page.
REPORT_PAGE_SLUGS = ("where-to-report", "how-to-report")
REPORT_FALLBACK_URL = "/how-to-report/"

# Characters that must not appear literally inside an inline <script> (same set as Django's json_script).
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _request(context):
    return context.get("request")


def _user(context):
    """The user behind this render, or None (treated as anonymous by the privacy gate)."""
    return getattr(_request(context), "user", None)


def site_pages(request, user=None) -> tuple[Page | None, list[Page]]:
    """The site's home page in the language being read and, in one query, the pages the header and footer link
    to: the home page's visible children and any visible how-to-report page. Kept on the request, so the menu,
    the report link and "see all" links together ask the privacy gate once per request."""
    return memo.on_request(request, _SITE_PAGES_ATTR, lambda: _read_site_pages(request, user))


def _read_site_pages(request, user) -> tuple[Page | None, list[Page]]:
    root = i18n.current_home(request)
    condition = Q(slug__in=REPORT_PAGE_SLUGS)
    if root is not None:
        condition |= Q(path__startswith=root.path, depth=root.depth + 1)
    viewer = user if user is not None else getattr(request, "user", None)
    return root, list(privacy.visible_pages(Page.objects.filter(condition), viewer).order_by("path"))


def _is_child_of(page: Page, parent: Page) -> bool:
    return page.depth == parent.depth + 1 and page.path.startswith(parent.path)


def menu_items(request) -> list[dict]:
    """The main navigation: live children of the site's home page that are shown in menus and visible
    to the viewer, in tree order, each with its URL and whether it is the current section."""
    root, pages = site_pages(request)
    if root is None:
        return []
    current_path = getattr(request, "path", "")
    items = []
    for page in pages:
        if not (page.show_in_menus and _is_child_of(page, root)):
            continue
        url = page.get_url(request=request)
        if not url:
            continue
        items.append({"page": page, "title": page.title, "url": url, "is_current": current_path.startswith(url)})
    return items


@register.inclusion_tag("components/navigation/main_menu.html", takes_context=True)
def main_menu(context):
    """Render the main navigation (never cached: what is listed depends on who is looking)."""
    request = _request(context)
    return {"menu_items": menu_items(request), "request": request}


@register.simple_tag(takes_context=True)
def can_view(context, page) -> bool:
    """Whether every viewer of this render may read ``page`` (``{% can_view page as visible %}``): the visitor
    on the site, every audience viewer while an email is rendered (``privacy.viewing_as``), else anonymous.
    """
    if not isinstance(page, Page):
        return False
    return privacy.viewable_now(page, _user(context))


@register.simple_tag(takes_context=True)
def can_view_document(context, document) -> bool:
    """Whether every viewer of this render may open ``document`` (or image): a link to a restricted document,
    or a restricted image, is not even shown (``{% can_view_document doc as visible %}``)."""
    return privacy.document_viewable_now(document, _user(context))


def restricted_paths(context) -> list[str]:
    """Paths of every restricted subtree, read at most once per request (or per render without one)."""
    request = _request(context)
    if request is not None:
        return memo.on_request(request, _RESTRICTED_PATHS_ATTR, privacy.all_restricted_paths)
    render = context.render_context
    if _RESTRICTED_PATHS_ATTR not in render:
        render[_RESTRICTED_PATHS_ATTR] = privacy.all_restricted_paths()
    return render[_RESTRICTED_PATHS_ATTR]


@register.simple_tag(takes_context=True)
def page_is_restricted(context, page) -> bool:
    """Whether ``page`` is members-only, for a lock badge (``{% page_is_restricted page as locked %}``)."""
    if not getattr(page, "path", None):
        return False
    return privacy.is_restricted(page, restricted_paths(context))


@register.simple_tag(takes_context=True)
def absolute_url(context, target) -> str:
    """An absolute URL for a page or a site-relative URL, built on ``SITE_URL``.

    ``{% absolute_url page %}``, ``{% absolute_url "/feeds/latest/rss/" %}``.
    """
    if target in (None, ""):
        return settings.SITE_URL + "/"
    url = (target.get_url(request=_request(context)) or "") if isinstance(target, Page) else str(target)
    return _absolute(url if url.startswith(("http://", "https://", "/")) else "/" + url)


@register.simple_tag(takes_context=True)
def child_of_type(context, parent, model_label: str):
    """The first live child of ``parent`` of a page type the viewer may see, e.g. the article index.

    ``{% child_of_type page "pages.ArticleIndexPage" as article_index %}``
    """
    if parent is None:
        return None
    model = apps.get_model(model_label)
    request = _request(context)
    root, pages = site_pages(request, _user(context))
    if root is not None and parent.pk == root.pk:
        return _menu_child_of_type(root, pages, model)
    return privacy.visible_pages(model.objects.child_of(parent), _user(context)).order_by("path").first()


def _menu_child_of_type(root: Page, pages: list[Page], model) -> Page | None:
    """The first child of the home page of this type among the pages already read for the menu (the content type
    cache makes this query-free)."""
    return next((p for p in pages if _is_child_of(p, root) and issubclass(p.specific_class or Page, model)), None)


@register.simple_tag(takes_context=True)
def site_section(context, model_label: str):
    """The site's top-level page of a type (``{% site_section "newsletter.NewsletterIndexPage" as archive %}``),
    in the language being read, if the viewer may see it: from the pages the menu already read (no query)."""
    root, _pages = site_pages(_request(context), _user(context))
    if root is None:
        return None
    return child_of_type(context, root, model_label)


@register.simple_tag
def login_url() -> str:
    """Where members sign in (``settings.LOGIN_URL``, a path or a URL name)."""
    return resolve_url(settings.LOGIN_URL)


@register.filter
def country_name(value) -> str:
    """The English name of a country given a django-countries ``Country`` or an ISO code."""
    if not value:
        return ""
    name = getattr(value, "name", None)
    if name:
        return str(name)
    return str(countries.name(str(value))) or str(value)


@register.filter
def page_type_label(page) -> str:
    """A human label for a page's type ("Best practice article"), without extra queries."""
    if page is None:
        return ""
    model = _page_model(page)
    meta = getattr(model, "_meta", None)
    if meta is None or model is Page:
        return gettext("Page")
    return capfirst(str(meta.verbose_name))


def _page_model(page) -> type:
    """The page's specific model, known without a query (its own class when the content type has none)."""
    return getattr(page, "specific_class", None) or type(page)


@register.filter
def card_label(page) -> str:
    """The kind of content a card shows ("Best practice article"), for page types that declare
    ``show_type_on_cards = True``; "" for the rest (an index or a standard page is not a kind of content a
    reader needs named, and an internal type name such as "standard page" must never show)."""
    if not getattr(_page_model(page), "show_type_on_cards", False):
        return ""
    return page_type_label(page)


@register.filter
def page_summary(page) -> str:
    """The card/meta summary of a page: ``get_summary()`` where the page type has it ("" for None)."""
    get_summary = getattr(page, "get_summary", None)
    if callable(get_summary):
        return get_summary()
    return getattr(page, "search_description", "") or ""


@register.filter
def og_type(page) -> str:
    """The Open Graph type: dated content (articles, conference notes) is an "article", the rest a "website"."""
    return "article" if getattr(page, "date", None) else "website"


@register.simple_tag
def elided_page_range(page_obj: PaginatorPage):
    """Page numbers around the current one, with ``None`` where numbers are left out."""
    paginator = page_obj.paginator
    return [
        None if number == paginator.ELLIPSIS else number
        for number in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    ]


@register.simple_tag
def page_query(filter_query: str, number) -> str:
    """The query string for page ``number`` that keeps the active filters (``?topic=x&page=2``)."""
    return f"?{filter_query}&page={number}" if filter_query else f"?page={number}"


@register.simple_tag(takes_context=True)
def report_url(context) -> str:
    """Where "Report illegal content" points: the live hotline directory (else the how-to-report page) the
    viewer may see, in the language being read when it exists."""
    request = _request(context)
    root, pages = site_pages(request, _user(context))
    in_language = getattr(root, "locale_id", None)
    candidates = sorted(
        (p for p in pages if p.slug in REPORT_PAGE_SLUGS),
        key=lambda p: (REPORT_PAGE_SLUGS.index(p.slug), p.locale_id != in_language, p.depth, p.path),
    )
    if candidates:
        return candidates[0].get_url(request=request) or REPORT_FALLBACK_URL
    return REPORT_FALLBACK_URL


def json_ld(data: dict) -> str:
    """A ``<script type="application/ld+json">`` element, escaped so content cannot close the script."""
    payload = json.dumps(data, ensure_ascii=False, sort_keys=False).translate(_JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))  # noqa: S308


def article_data(page, request=None) -> dict:
    """Schema.org ``Article`` data for a best-practice article."""
    site_name = settings.WAGTAIL_SITE_NAME
    url = _absolute(page.get_url(request=request) or "")
    # The last publication is the best "modified" date; pages never published through a revision fall back.
    modified = page.last_published_at or page.first_published_at or getattr(page, "date", None)
    return _given({
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": page.seo_title or page.title,
        "description": page_summary(page),
        "datePublished": _iso(getattr(page, "date", None)),
        "dateModified": _iso(modified),
        "author": {"@type": "Organization", "name": getattr(page, "author_organisation", "") or site_name},
        "publisher": {"@type": "Organization", "name": site_name, "url": settings.SITE_URL + "/"},
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "image": _share_image_url(page),
    })


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _given(data: dict) -> dict:
    """The data without its None values (schema.org leaves unknown properties out)."""
    return {key: value for key, value in data.items() if value is not None}


def _share_image_url(page) -> str | None:
    """The absolute URL of the page's share image, the rendition Open Graph uses (seo_meta.html); None when some
    viewer of this render may not open the image (an image in a restricted collection never reaches a public page's
    structured data, as it never reaches its Open Graph tags)."""
    image = getattr(page, "social_image", None)
    if image is None or not privacy.document_viewable_now(image):
        return None
    return _absolute(image.get_rendition("fill-1200x630").url)


@register.simple_tag(takes_context=True)
def article_json_ld(context, page) -> str:
    """JSON-LD describing an article for search engines (``{% article_json_ld page %}``)."""
    return json_ld(article_data(page, _request(context)))


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def organization_data(page, request=None) -> dict:
    """Schema.org ``Organization`` for the network, on its home page: name, address, logo and what it is. Public
    facts only (no member organisations, no people)."""
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": settings.WAGTAIL_SITE_NAME,
        "url": _absolute(page.get_url(request=request) or "/"),
        "logo": _absolute(static("img/favicon.svg")),
        "description": page_summary(page),
    }
    return {key: value for key, value in data.items() if value}


@register.simple_tag(takes_context=True)
def organization_json_ld(context, page) -> str:
    """JSON-LD describing the network (``{% organization_json_ld page %}`` on the home page)."""
    return json_ld(organization_data(page, _request(context)))


def breadcrumb_data(page, request=None) -> dict | None:
    """Schema.org ``BreadcrumbList`` for the trail the page header shows (home, sections, the page); None on the
    home page. A reader of the page may read its ancestors (a restriction covers the whole subtree below it)."""
    trail = list(page.get_ancestors().filter(depth__gt=1))  # not the tree's root
    if not trail:
        return None
    items = []
    for position, crumb in enumerate([*trail, page], start=1):
        name = gettext("Home") if crumb.depth == 2 else crumb.title
        items.append({"@type": "ListItem", "position": position, "name": name,
                      "item": _absolute(crumb.get_url(request=request) or "/")})
    return {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items}


@register.simple_tag(takes_context=True)
def breadcrumb_json_ld(context, page) -> str:
    """JSON-LD for the breadcrumb trail of an inner page (``{% breadcrumb_json_ld page %}``), "" on the home page."""
    data = breadcrumb_data(page, _request(context))
    return json_ld(data) if data else ""


def conference_data(page, request=None) -> dict:
    """Schema.org ``Event`` data for conference notes: name, dates and place."""
    url = _absolute(page.get_url(request=request) or "")
    return _given({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": page.event_name,
        "description": page_summary(page),
        "startDate": _iso(page.start_date),
        "endDate": _iso(page.end_date),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "eventStatus": "https://schema.org/EventScheduled",
        "location": {
            "@type": "Place",
            "name": page.city,
            "address": {
                "@type": "PostalAddress",
                "addressLocality": page.city,
                "addressCountry": str(getattr(page.country, "code", page.country) or ""),
            },
        },
        "organizer": [{"@type": "Organization", "name": name} for name in page.organiser_list],
        "url": url,
    })


@register.simple_tag(takes_context=True)
def conference_json_ld(context, page) -> str:
    """JSON-LD describing the conference behind a set of notes (``{% conference_json_ld page %}``)."""
    return json_ld(conference_data(page, _request(context)))
