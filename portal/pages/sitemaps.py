"""The XML sitemap: every live public page of the default site in every language, with absolute URLs on
SITE_URL and ``hreflang`` alternates linking each page's public language versions. With more pages than
``SITEMAP_PAGE_SIZE``, ``/sitemap.xml`` is a sitemap index naming ``/sitemap.xml?p=1``, ``?p=2``..."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, sitemap, x_robots_tag
from django.db.models import Q
from django.template.response import TemplateResponse
from django.views.decorators.cache import cache_control

from wagtail.models import Page, Site

from portal.core.cache import mark_cacheable
from portal.core.privacy import Viewer, visible_pages
from portal.pages.conf import conf


class PublicPagesSitemap(Sitemap):
    """Live pages an anonymous visitor may read; restricted subtrees never appear, whoever asks."""

    @property
    def limit(self) -> int:
        return conf.SITEMAP_PAGE_SIZE

    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        # Canonical URLs use the configured SITE_URL, not whatever Host header the request carried.
        return urlsplit(settings.SITE_URL).netloc

    def items(self):
        site = Site.objects.select_related("root_page").filter(is_default_site=True).first()
        if site is None:
            return Page.objects.none()
        # The home page in every language heads its own tree.
        homes = Page.objects.filter(translation_key=site.root_page.translation_key).values_list("path", flat=True)
        condition = Q()
        for path in homes:
            condition |= Q(path__startswith=path)
        return visible_pages(Page.objects.filter(condition), Viewer.anonymous()).order_by("path")

    def location(self, page: Page) -> str:
        # Path below SITE_URL's root (SITE_URL may itself carry a path prefix).
        prefix = urlsplit(settings.SITE_URL).path.rstrip("/")
        return prefix + page.get_url_parts()[2]

    def _urls(self, page, protocol, domain):
        """Django's entries, each with its page's public language versions as ``hreflang`` alternates
        (one query per sitemap page), plus ``x-default`` for the default language's version."""
        urls = super()._urls(page, protocol, domain)
        keys = {url["item"].translation_key for url in urls}
        versions: dict = {}
        public = visible_pages(Page.objects.filter(translation_key__in=keys), Viewer.anonymous())
        for version in public.select_related("locale").order_by("path"):
            versions.setdefault(version.translation_key, []).append(version)
        for url in urls:
            group = versions.get(url["item"].translation_key, [])
            if len(group) < 2:
                continue
            alternates = []
            for version in group:
                location = f"{protocol}://{domain}{self.location(version)}"
                alternates.append({"location": location, "lang_code": version.locale.language_code})
                if version.locale.language_code == settings.LANGUAGE_CODE:
                    alternates.append({"location": location, "lang_code": "x-default"})
            url["alternates"] = alternates
        return urls

    def lastmod(self, page: Page):
        return page.last_published_at or page.latest_revision_created_at


SITEMAP_MAX_AGE = 3600  # seconds a proxy may keep the sitemap; it only ever holds public pages


@cache_control(public=True, max_age=SITEMAP_MAX_AGE)
def sitemap_view(request):
    """`/sitemap.xml`: the same for every visitor, so proxies may cache it. One file while the pages fit in one,
    else an index of the files ``?p=1``, ``?p=2``... (Django's sitemap view serves each page). The page cache
    keeps them for anonymous requests like pages (any publish or restriction change makes them stale)."""
    mark_cacheable(request)
    pages = PublicPagesSitemap()
    if "p" in request.GET or pages.paginator.num_pages <= 1:  # the paginator counts once, for both
        return sitemap(request, sitemaps={"pages": pages})
    return sitemap_index(request, pages.paginator.num_pages)


@x_robots_tag
def sitemap_index(request, pages: int):
    """The sitemap index: absolute URLs on SITE_URL, like the entries (no lastmod: it would read every page)."""
    location = settings.SITE_URL.rstrip("/") + request.path_info
    items = [SitemapIndexItem(f"{location}?p={page}") for page in range(1, pages + 1)]
    return TemplateResponse(request, "sitemap_index.xml", {"sitemaps": items}, content_type="application/xml")
