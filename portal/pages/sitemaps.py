"""The XML sitemap: every live public page of the default site, with absolute URLs on SITE_URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.views.decorators.cache import cache_control

from wagtail.models import Page, Site

from portal.core.privacy import Viewer, visible_pages


class PublicPagesSitemap(Sitemap):
    """Live pages an anonymous visitor may read; restricted subtrees never appear, whoever asks."""

    limit = 5000

    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        # Canonical URLs use the configured SITE_URL, not whatever Host header the request carried.
        return urlsplit(settings.SITE_URL).netloc

    def items(self):
        site = Site.objects.select_related("root_page").filter(is_default_site=True).first()
        if site is None:
            return Page.objects.none()
        queryset = Page.objects.descendant_of(site.root_page, inclusive=True)
        return visible_pages(queryset, Viewer.anonymous()).order_by("path")

    def location(self, page: Page) -> str:
        # Path below SITE_URL's root (SITE_URL may itself carry a path prefix).
        prefix = urlsplit(settings.SITE_URL).path.rstrip("/")
        return prefix + page.get_url_parts()[2]

    def lastmod(self, page: Page):
        return page.last_published_at or page.latest_revision_created_at


SITEMAPS = {"pages": PublicPagesSitemap}
SITEMAP_MAX_AGE = 3600  # seconds a proxy may keep the sitemap; it only ever holds public pages


@cache_control(public=True, max_age=SITEMAP_MAX_AGE)
def sitemap_view(request):
    """`/sitemap.xml`: the same for every visitor, so proxies may cache it."""
    return sitemap(request, sitemaps=SITEMAPS)
