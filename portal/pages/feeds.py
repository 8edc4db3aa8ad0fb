"""RSS and Atom feeds of the latest public articles and conference notes, overall and per topic.

Feeds are public and cacheable, so they are always built for the anonymous viewer: members-only pages
never appear in them, whoever requests the feed.

There is one feed per language: ``/fr/feeds/latest/rss/`` lists what the French site lists, the French pages
and, like the home page's latest lists, the default-language pages that have no French translation yet. A
language nothing is translated into yet (``/es/``) therefore has the default language's feed, never an empty one;
each entry says its own language (Atom ``xml:lang``), and an RSS channel declares the language its entries are
written in. The unprefixed ``/feeds/...`` URLs that feed readers already know keep serving the default language,
whatever the reader's browser asks for (they are cached publicly).
"""

from __future__ import annotations

import copy
import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from wagtail.models import Page

from portal.core.i18n import in_language_or_default
from portal.core.models import Topic
from portal.core.privacy import Viewer, visible_pages
from portal.pages.models import ArticlePage, ConferenceNotesPage

FEED_LENGTH = 20
FEED_MAX_AGE = 900  # seconds a proxy may keep a feed


def absolute_page_url(page: Page, request=None) -> str | None:
    """The page's canonical absolute URL on SITE_URL (None for a page outside every site)."""
    parts = page.get_url_parts(request)
    if parts is None:
        return None
    return settings.SITE_URL + parts[2]


def feed_language(request) -> str:
    """The feed's language: its URL prefix, or the default language for the unprefixed feeds."""
    return translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE


def latest_public_items(
    limit: int = FEED_LENGTH, topic: Topic | None = None, language: str | None = None
) -> list[Page]:
    """The newest public articles and conference notes of one language's site together, newest first by date:
    the pages in that language, and default-language pages not translated into it yet (as the home page lists).

    A fixed number of queries whatever the limit: the gate, then one query and one topic prefetch per type.
    A topic matches pages tagged with it in any language (translated pages may keep the source's topics).
    """
    language = language or settings.LANGUAGE_CODE
    public_ids = visible_pages(in_language_or_default(Page.objects.all(), language), Viewer.anonymous()).values("id")
    items: list[Page] = []
    for model, date_field in ((ArticlePage, "date"), (ConferenceNotesPage, "start_date")):
        queryset = model.objects.filter(id__in=public_ids)
        if topic is not None:
            queryset = queryset.filter(topics__translation_key=topic.translation_key).distinct()
        items.extend(queryset.defer_streamfields().order_by(f"-{date_field}", "-id")
                     .select_related("locale").prefetch_related("topics")[:limit])
    items.sort(key=lambda page: (page.date, page.id), reverse=True)
    return items[:limit]


def _tag_authority() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _item_language(item: Page) -> str:
    return item.locale.language_code


class PortalAtomFeed(Atom1Feed):
    """Atom 1.0 where an entry written in another language than the feed's says so (``xml:lang``)."""

    def item_attributes(self, item):
        language = item.get("content_language")
        if language and language != self.feed["language"]:
            return {"xml:lang": language}
        return {}


class LatestFeed(Feed):
    """RSS 2.0 feed of the latest public best-practice articles and conference notes."""

    feed_type = Rss201rev2Feed
    url_name = "feeds:latest-rss"

    feed_language = settings.LANGUAGE_CODE
    _items: list[Page] | None = None

    def __call__(self, request, *args, **kwargs):
        # The URLconf holds one instance for every request (and thread): this request's language and items live on
        # a copy of it.
        feed = copy.copy(self)
        feed.feed_language = feed_language(request)
        feed._items = None
        with translation.override(feed.feed_language):
            response = Feed.__call__(feed, request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
        return response

    def get_feed(self, obj, request):
        self._obj = obj  # Django reads ``language`` as an attribute, before it asks for the items of ``obj``
        return super().get_feed(obj, request)

    @property
    def language(self) -> str:
        """The language the entries are written in: the feed's own when any entry is, else the default language
        (a language nothing is translated into yet serves the default language's pages, and says so)."""
        languages = {_item_language(item) for item in self.items(getattr(self, "_obj", None))}
        if not languages or self.feed_language in languages:
            return self.feed_language
        return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in languages else sorted(languages)[0]

    def item_extra_kwargs(self, item) -> dict:
        return {"content_language": _item_language(item)}

    def title(self, obj=None) -> str:
        return _("%(site)s: latest best practice and conference notes") % {"site": settings.WAGTAIL_SITE_NAME}

    def link(self, obj=None) -> str:
        return settings.SITE_URL + f"/{self.feed_language}/"

    def description(self, obj=None) -> str:
        return _("New best-practice articles and conference notes from the network's members.")

    def subtitle(self, obj=None) -> str:
        return self.description(obj)

    def feed_url(self, obj=None) -> str:
        return settings.SITE_URL + reverse(self.url_name)

    def items(self, obj=None):
        if self._items is None:  # asked by language() and by the feed generator: one query set per request
            self._items = latest_public_items(language=self.feed_language)
        return self._items

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.get_summary()

    def item_link(self, item) -> str:
        return absolute_page_url(item) or settings.SITE_URL + "/"

    def item_guid(self, item) -> str:
        # Stable across slug changes and moves: a tag URI built from the page's id.
        return f"tag:{_tag_authority()},2024:page-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item) -> datetime.datetime:
        return datetime.datetime.combine(item.date, datetime.time.min, tzinfo=datetime.UTC)

    def item_updateddate(self, item) -> datetime.datetime | None:
        return item.last_published_at or self.item_pubdate(item)

    def item_categories(self, item) -> list[str]:
        return [topic.name for topic in item.topics.all()]

    def item_author_name(self, item) -> str:
        # Atom requires an author for every entry (RFC 4287 4.1.1): the member organisation that wrote it,
        # else the network (conference notes are the network's own).
        return getattr(item, "author_organisation", "") or settings.WAGTAIL_SITE_NAME

    def author_name(self, obj=None) -> str:
        return settings.WAGTAIL_SITE_NAME


class LatestAtomFeed(LatestFeed):
    """The latest feed as Atom 1.0."""

    feed_type = PortalAtomFeed
    url_name = "feeds:latest-atom"


class TopicFeed(LatestFeed):
    """RSS 2.0 feed of the latest public articles and conference notes on one topic (404 for an unknown topic)."""

    url_name = "feeds:topic-rss"

    def get_object(self, request, slug: str) -> Topic:
        """The topic with this slug, named in the feed's language when translated (404 if unknown)."""
        language = feed_language(request)
        topics = Topic.objects.filter(slug=slug)
        topic = topics.filter(locale__language_code=language).first()
        if topic is None:
            topic = topics.order_by("id").first()
        if topic is None:
            raise Http404("No such topic")
        return Topic.objects.filter(translation_key=topic.translation_key, locale__language_code=language).first() \
            or topic

    def title(self, obj=None) -> str:
        return f"{settings.WAGTAIL_SITE_NAME}: {obj.name}"

    def description(self, obj=None) -> str:
        return _("New best-practice articles and conference notes on %(topic)s.") % {"topic": obj.name}

    def feed_url(self, obj=None) -> str:
        return settings.SITE_URL + reverse(self.url_name, args=[obj.slug])

    def items(self, obj=None):
        if self._items is None:
            self._items = latest_public_items(topic=obj, language=self.feed_language)
        return self._items


class TopicAtomFeed(TopicFeed):
    """The per-topic feed as Atom 1.0."""

    feed_type = PortalAtomFeed
    url_name = "feeds:topic-atom"
