"""URL configuration. Machine endpoints (API, health, feeds) come before Wagtail's catch-all page serving.

Pages, search and the per-language feeds sit under a language prefix (``/en/``, ``/fr/``: ``i18n_patterns``);
machine endpoints and every URL ever sent in an email (newsletter confirm, preferences and one-click
unsubscribe, member invitations and password resets) stay unprefixed and never redirect.
"""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal.contributions import views as contributions_views
from portal.core.api import api_router
from portal.core.language_switcher import switch_language
from portal.core.media import serve_media
from portal.core.views import health, robots_txt
from portal.hotlines.api import api as hotlines_api
from portal.pages import views as pages_views
from portal.pages.feeds import LatestAtomFeed, LatestFeed, TopicAtomFeed, TopicFeed
from portal.pages.sitemaps import sitemap_view
from portal.stats.api import api as stats_api

feed_patterns = [
    path("latest/rss/", LatestFeed(), name="latest-rss"),
    path("latest/atom/", LatestAtomFeed(), name="latest-atom"),
    path("topic/<slug:slug>/rss/", TopicFeed(), name="topic-rss"),
    path("topic/<slug:slug>/atom/", TopicAtomFeed(), name="topic-atom"),
]



@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers (and the Wagtail admin's pages) ask for /favicon.ico: the site's icon, wherever it is served."""
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v2/", api_router.urls),
    path("api/stats/", stats_api.urls),
    path("api/hotlines/", hotlines_api.urls),
    path("health/", health, name="health"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap_view, name="sitemap"),
    # Feed readers keep the unprefixed feeds they subscribed to: those stay in the default language.
    path("feeds/", include((feed_patterns, "feeds_default"))),
    path("language/<str:language>/", switch_language, name="switch_language"),
    path("members/contributions/", include("portal.contributions.urls")),
    path("members/", include("portal.members.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("statistics-data/versions/<int:aggregation_id>.csv", contributions_views.version_csv,
         name="dataset_version_csv"),
    path("statistics-data/", include("portal.stats.urls")),
    # Uploaded images, only through the privacy gate (never a raw /media/ mapping, DEBUG or not).
    path("media/<path:path>", serve_media, name="media"),
]

urlpatterns += i18n_patterns(
    path("search/", pages_views.search, name="search"),
    path("feeds/", include((feed_patterns, "feeds"))),
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
