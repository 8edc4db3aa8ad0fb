"""The portal's page types: home, best-practice articles, conference notes and standard pages."""

from __future__ import annotations

import math
from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, models
from django.http import Http404
from django.utils.functional import SimpleLazyObject
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail import blocks as wagtail_blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Locale, Orderable, Page
from wagtail.search import index

from django_countries.fields import CountryField

from portal.core import memo
from portal.core.blocks import (
    CommonContentBlock,
    DocumentLinkBlock,
    HeadlineStatBlock,
    SessionBlock,
)
from portal.core.forms import PortalPageForm
from portal.core.i18n import in_language_or_default
from portal.core.models import Sector, Topic
from portal.core.privacy import visible_pages
from portal.core.serving import EffectiveRestrictionsMixin
from portal.pages.serializers import country_field, taxonomy_field

WORDS_PER_MINUTE = 200
INDEX_PAGE_SIZE = 12


def _active_locale_id() -> int | None:
    try:
        return Locale.get_active().id
    except (LookupError, Locale.DoesNotExist):
        return None


class BasePage(EffectiveRestrictionsMixin, Page):
    """Fields and behaviour every portal page shares: a listing summary and a social sharing image."""

    listing_summary = models.TextField(
        blank=True, max_length=300, help_text="Shown on cards and in search results. Defaults to the intro or summary."
    )
    social_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown when the page is shared (Open Graph). Use generated graphics, never photos of people.",
    )

    promote_panels = [
        *Page.promote_panels,
        MultiFieldPanel([FieldPanel("listing_summary"), FieldPanel("social_image")], heading="Listings and sharing"),
    ]

    base_form_class = PortalPageForm

    class Meta:
        abstract = True

    @property
    def localized(self):
        """This page in the active language (Wagtail's ``localized``), without Wagtail's query for the active
        locale when the page is already in it: the locale is memoised (``portal.core.memo``)."""
        language = get_language()
        locale_id = memo.remember(("active-locale-id", language), _active_locale_id)
        if locale_id is not None and locale_id == self.locale_id:
            return self
        return Page.localized.fget(self)

    def get_summary(self) -> str:
        """The text shown on cards, in search results, feeds and meta descriptions."""
        if self.listing_summary:
            return self.listing_summary
        if self.search_description:
            return self.search_description
        for attr in ("summary", "intro"):
            value = getattr(self, attr, "")
            if value:
                return Truncator(strip_tags(str(value))).words(40)
        return ""

    def route(self, request, path_components):
        """Find the page a URL names in two queries, however deep it is, with Wagtail's routing rules.

        Wagtail's ``Page.route`` walks the URL a segment at a time, with a query for the child with that slug
        and another for its specific object: an article two levels below the home page costs four queries
        before its view starts. Here one query fetches every page that could lie on the path (descendants
        within reach whose slug is one of the segments), the walk happens in Python, and only the page that
        answers is fetched in its specific form. Every outcome is Wagtail's own: an unknown segment is a 404,
        draft pages on the way are walked through and only the final page must be live (its own ``route``
        decides), a page type that overrides ``route`` (a routable page) takes over at the point where
        Wagtail would have called it, and view restrictions are still enforced afterwards by the
        ``before_serve_page`` hook, which routing does not touch.
        """
        if not path_components:
            return super().route(request, path_components)
        candidates = self._route_candidates(path_components)
        parent = self
        for position, slug in enumerate(path_components):
            page = _child_with_slug(candidates, parent, slug)
            # Treebeard's get_parent() returns this without a query (Wagtail sets it too, from the page whose
            # route found this one); it is copied onto the specific object.
            page._cached_parent_obj = parent
            remaining = path_components[position + 1 :]
            if not remaining or _overrides_route(page.specific_class):
                # The one specific fetch (Page.specific falls back to the plain page if its model is gone).
                return page.specific.route(request, remaining)
            # The page's own class (so overridden methods and isinstance checks behave as under Wagtail) built
            # from the row in hand: no query.
            parent = page.get_specific(deferred=True)
        raise Http404  # not reached: the loop returns or raises on its last segment

    def _route_candidates(self, path_components) -> list[Page]:
        """Every page that could lie on the path, in one query: the descendants within reach whose slug is one
        of the path's segments (plain pages, built from whole base rows)."""
        page_model = self.base_page_model
        # A page's path holds its depth, so no URL segment beyond the deepest possible page can name one.
        deepest = page_model._meta.get_field("path").max_length // page_model.steplen
        reach = max(0, min(len(path_components), deepest - self.depth))
        # Whole base rows, not .only(): the pages on the way become get_parent() results, and a deferred
        # field read in a template would cost a query each. The rows are memoised under the content generation
        # (portal.core.memo: no query at all once this process has routed the URL); the page objects are built
        # afresh for every request, so no request ever sees another's.
        segments = tuple(path_components[:reach])
        fields = [field.attname for field in page_model._meta.concrete_fields]
        rows = memo.remember(
            ("route-candidates", self.pk, segments),
            lambda: tuple(
                page_model.objects.filter(
                    path__startswith=self.path,
                    depth__gt=self.depth,
                    depth__lte=self.depth + reach,
                    slug__in=set(segments),
                ).values_list(*fields)
            ),
        )
        return [page_model.from_db(DEFAULT_DB_ALIAS, fields, row) for row in rows]


def _child_with_slug(candidates: list[Page], parent: Page, slug: str) -> Page:
    """As ``parent.get_children().get(slug=slug)``, among the route's candidates: a 404 when there is none
    (treebeard finds no children under a page whose numchild says it is a leaf), and duplicate sibling slugs
    are an error, not a choice."""
    if not parent.numchild:
        raise Http404
    found = [page for page in candidates if page.slug == slug and page.is_child_of(parent)]
    if not found:
        raise Http404
    if len(found) > 1:
        raise Page.MultipleObjectsReturned(f"{len(found)} pages with the slug {slug!r}")
    return found[0]


def _overrides_route(specific_class) -> bool:
    """Whether a page type routes its own way (e.g. a routable page), so BasePage.route must hand over to it."""
    return specific_class is not None and specific_class.route not in (Page.route, BasePage.route)


def visible_in_order(page_ids: list[int], user) -> list[Page]:
    """The pages of ``page_ids`` this user may read, in that order (specific pages): what an editor chose to
    show (the home page's featured pages, an article's related pages)."""
    pages = visible_pages(Page.objects.filter(id__in=page_ids), user).specific()
    by_id = {page.id: page for page in pages}
    return [by_id[pk] for pk in page_ids if pk in by_id]


class HomePage(BasePage):
    """The portal's front page: what the network is, featured pages, latest content and headline figures."""

    hero_title = models.CharField(max_length=200, default="Together against child sexual abuse material online")
    intro = RichTextField(features=["bold", "italic", "link"], blank=True)
    headline_stats = StreamField(
        [("stat", HeadlineStatBlock())],
        blank=True,
        max_num=6,
        help_text="Headline figures shown in a row on the home page.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_title"),
        FieldPanel("intro"),
        InlinePanel("featured_pages", label="Featured pages", max_num=6),
        FieldPanel("headline_stats"),
    ]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "pages.ArticleIndexPage",
        "pages.ConferenceIndexPage",
        "pages.StandardPage",
        "stats.StatisticsPage",
        "newsletter.NewsletterIndexPage",
        "hotlines.HotlineDirectoryPage",
    ]
    max_count = 1
    template = "pages/home_page.html"

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        user = request.user
        # A list of {"value", "label", "source"}; the statistics app may feed it from the latest dataset.
        from portal.stats.services.headline import latest_headline_stats  # the stats app imports this module

        # Read only when the template uses them: a cached home fragment does not (portal.core.fragments).
        context["headline_stats"] = SimpleLazyObject(
            lambda: latest_headline_stats() or [dict(block.value) for block in self.headline_stats]
        )
        context["featured_pages"] = SimpleLazyObject(lambda: self.featured_for(user))
        # In the home page's language, with default-language pages standing in for untranslated ones.
        articles = in_language_or_default(ArticlePage.objects.all(), self.locale.language_code)
        conferences = in_language_or_default(ConferenceNotesPage.objects.all(), self.locale.language_code)
        context["latest_articles"] = (
            visible_pages(articles, user).order_by("-date", "-id").prefetch_related("topics")[:3]
        )
        context["latest_conferences"] = visible_pages(conferences, user).order_by("-start_date", "-id")[:3]
        return context


    def featured_for(self, user) -> list[Page]:
        """The featured pages this user may read, in the editor's order (specific pages)."""
        return visible_in_order([item.page_id for item in self.featured_pages.all()], user)


class HomeFeaturedPage(Orderable):
    """A page the editors chose to feature on the home page."""

    home = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_pages")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("page")]


class FilterableIndexMixin:
    """Listing behaviour for index pages: `?topic=` and `?sector=` filters and pagination.

    Subclasses set ``child_model`` and ``child_ordering``; only pages the viewer may read are listed.
    """

    child_model: type[Page]
    child_ordering: tuple[str, ...] = ("-first_published_at",)
    filter_by_sector = True

    def get_children_queryset(self, request):
        queryset = visible_pages(self.child_model.objects.child_of(self), request.user)
        return queryset.order_by(*self.child_ordering).prefetch_related("topics")

    def get_filters(self, request):
        """The active filters from the query string, as (topic, sector) objects or None."""
        topic = _term_in_page_language(Topic, request.GET.get("topic", ""), self)
        sector = _term_in_page_language(Sector, request.GET.get("sector", ""), self) if self.filter_by_sector else None
        return topic, sector

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        children = self.get_children_queryset(request)
        topic, sector = self.get_filters(request)
        # Pages may be tagged with any language version of a term (translations keep their source's tags).
        if topic:
            children = children.filter(topics__translation_key=topic.translation_key).distinct()
        if sector:
            children = children.filter(sectors__translation_key=sector.translation_key).distinct()
        paginator = Paginator(children, INDEX_PAGE_SIZE)
        page_obj = paginator.get_page(request.GET.get("page", 1))  # not a number: the first; too far: the last
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "children": page_obj.object_list,
                "page_obj": page_obj,
                "paginator": paginator,
                "active_topic": topic,
                "active_sector": sector,
                "topics": _terms_in_page_language(Topic, self),
                "sectors": _terms_in_page_language(Sector, self) if self.filter_by_sector else [],
                "filter_query": query.urlencode(),
            }
        )
        return context


def _terms_in_page_language(model, page) -> list:
    """Every term once, in the page's language when translated, else in the default language."""
    terms = {term.translation_key: term for term in model.objects.filter(locale__language_code=settings.LANGUAGE_CODE)}
    if page.locale.language_code != settings.LANGUAGE_CODE:
        for term in model.objects.filter(locale_id=page.locale_id, translation_key__in=list(terms)):
            terms[term.translation_key] = term
    return sorted(terms.values(), key=lambda term: term.name.lower())


def _term_in_page_language(model, slug: str, page):
    """The term with this slug in the page's language, else in the default language (None if unknown or empty:
    then without a query)."""
    slug = slug.strip()
    if not slug:
        return None
    terms = model.objects.filter(slug=slug)
    return terms.filter(locale_id=page.locale_id).first() or terms.filter(
        locale__language_code=settings.LANGUAGE_CODE).first()


class ArticleIndexPage(FilterableIndexMixin, BasePage):
    """Lists best-practice articles, filterable by topic and by the sector they are written for."""

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    parent_page_types = ["pages.HomePage"]
    subpage_types = ["pages.ArticlePage"]
    template = "pages/article_index_page.html"
    child_ordering = ("-date", "-id")

    class Meta:
        verbose_name = _("best practice index")

    @property
    def child_model(self):
        return ArticlePage


class ArticlePage(BasePage):
    """A best-practice article: what a member organisation learned, for the sectors it is meant for."""

    show_type_on_cards = True  # cards name the kind of content ("Best practice article")

    summary = models.TextField(max_length=600, help_text="One or two sentences shown on cards and in feeds.")
    author_organisation = models.CharField(max_length=200, blank=True)
    date = models.DateField("published on", default=date.today)
    topics = ParentalManyToManyField(Topic, blank=True, related_name="articles")
    sectors = ParentalManyToManyField(
        Sector, blank=True, related_name="articles", verbose_name="intended sectors"
    )
    body = StreamField(CommonContentBlock())
    reading_time = models.PositiveSmallIntegerField(
        default=1, editable=False, help_text="Minutes, computed from the body when the page is saved."
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldRowPanel([FieldPanel("author_organisation"), FieldPanel("date")]),
        FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
        FieldPanel("sectors", widget=forms.CheckboxSelectMultiple),
        FieldPanel("body"),
        InlinePanel("related_pages", label="Related pages", max_num=6),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.SearchField("author_organisation"),
        index.RelatedFields("topics", [index.SearchField("name")]),
        index.FilterField("date"),
    ]

    api_fields = [
        APIField("summary"),
        APIField("date"),
        APIField("author_organisation"),
        APIField("topics", serializer=taxonomy_field()),
        APIField("sectors", serializer=taxonomy_field()),
        APIField("reading_time"),
        APIField("body"),
    ]

    parent_page_types = ["pages.ArticleIndexPage"]
    subpage_types: list[str] = []
    template = "pages/article_page.html"

    class Meta:
        verbose_name = _("best practice article")

    def save(self, *args, **kwargs):
        self.reading_time = compute_reading_time(self.body)
        super().save(*args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Read only when the template uses them: a cached article fragment does not (portal.core.fragments).
        context["related"] = SimpleLazyObject(lambda: self.related_for(request.user))
        return context

    def related_for(self, user) -> list[Page]:
        """The related pages this user may read, in the editor's order (specific pages, two or three queries)."""
        return visible_in_order([item.page_id for item in self.related_pages.all()], user)


class ArticleRelatedPage(Orderable):
    """A page an editor links from an article; readers see it only if they may read it."""

    article = ParentalKey(ArticlePage, on_delete=models.CASCADE, related_name="related_pages")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("page")]


class ConferenceIndexPage(FilterableIndexMixin, BasePage):
    """Lists notes from conferences and network meetings, newest first."""

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    parent_page_types = ["pages.HomePage"]
    subpage_types = ["pages.ConferenceNotesPage"]
    template = "pages/conference_index_page.html"
    child_ordering = ("-start_date", "-id")
    filter_by_sector = True

    class Meta:
        verbose_name = _("conference notes index")

    @property
    def child_model(self):
        return ConferenceNotesPage


class ConferenceNotesPage(BasePage):
    """Notes from one conference: sessions, speakers, key takeaways and attachments."""

    show_type_on_cards = True

    event_name = models.CharField(max_length=250)
    start_date = models.DateField()
    end_date = models.DateField()
    city = models.CharField(max_length=120)
    country = CountryField()
    organisers = models.CharField(max_length=400, help_text="Comma-separated names of the organisers.")
    partners = models.CharField(max_length=400, blank=True, help_text="Comma-separated names of partners.")
    summary = models.TextField(max_length=800)
    topics = ParentalManyToManyField(Topic, blank=True, related_name="conference_notes")
    sectors = ParentalManyToManyField(Sector, blank=True, related_name="conference_notes")
    key_takeaways = StreamField(
        [("takeaway", wagtail_blocks.CharBlock(max_length=400, icon="tick", label="Takeaway"))], blank=True
    )
    sessions = StreamField([("session", SessionBlock())], blank=True)
    body = StreamField(CommonContentBlock(), blank=True, help_text="Any further notes.")
    attachments = StreamField([("document", DocumentLinkBlock())], blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("event_name"),
        FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
        FieldRowPanel([FieldPanel("city"), FieldPanel("country")]),
        FieldPanel("organisers"),
        FieldPanel("partners"),
        FieldPanel("summary"),
        FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
        FieldPanel("sectors", widget=forms.CheckboxSelectMultiple),
        FieldPanel("key_takeaways"),
        FieldPanel("sessions"),
        FieldPanel("body"),
        FieldPanel("attachments"),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("event_name"),
        index.SearchField("summary"),
        index.SearchField("city"),
        index.SearchField("organisers"),
        index.SearchField("partners"),
        index.SearchField("key_takeaways"),
        index.SearchField("sessions"),
        index.SearchField("body"),
        index.RelatedFields("topics", [index.SearchField("name")]),
        index.FilterField("start_date"),
    ]

    api_fields = [
        APIField("event_name"),
        APIField("start_date"),
        APIField("end_date"),
        APIField("city"),
        APIField("country", serializer=country_field()),
        APIField("organisers"),
        APIField("partners"),
        APIField("summary"),
        APIField("topics", serializer=taxonomy_field()),
        APIField("sectors", serializer=taxonomy_field()),
        APIField("key_takeaways"),
        APIField("sessions"),
        APIField("body"),
        APIField("attachments"),
    ]

    parent_page_types = ["pages.ConferenceIndexPage"]
    subpage_types: list[str] = []
    template = "pages/conference_notes_page.html"

    class Meta:
        verbose_name = _("conference notes")
        verbose_name_plural = "conference notes"

    def clean(self):
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The conference cannot end before it starts."})

    @property
    def organiser_list(self) -> list[str]:
        return _comma_separated(self.organisers)

    @property
    def partner_list(self) -> list[str]:
        return _comma_separated(self.partners)

    @property
    def date(self):
        """The conference's first day, so feeds and listings can sort it with articles."""
        return self.start_date


def _comma_separated(names: str) -> list[str]:
    """The names of a comma-separated field, trimmed, empty ones left out."""
    return [name.strip() for name in names.split(",") if name.strip()]


class StandardPage(BasePage):
    """A plain content page: about the network, contact, how to report illegal content."""

    intro = models.TextField(blank=True, max_length=600)
    body = StreamField(CommonContentBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]

    parent_page_types = ["pages.HomePage", "pages.StandardPage"]
    subpage_types = ["pages.StandardPage"]
    template = "pages/standard_page.html"

    class Meta:
        verbose_name = _("standard page")


def compute_reading_time(body) -> int:
    """Minutes needed to read a StreamField body at 200 words per minute (at least one)."""
    words = 0
    for block in body or []:
        words += len(strip_tags(_block_text(block.value)).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def _block_text(value) -> str:
    """All human-readable text inside a block value, joined by spaces (None and other values have none)."""
    if hasattr(value, "source"):  # RichText
        return value.source
    if isinstance(value, str):
        return value
    if hasattr(value, "items"):  # a dict, a StructValue
        return " ".join(_block_text(item) for key, item in value.items() if key not in {"level", "tone"})
    try:  # a list, a StreamValue, a ListValue
        return " ".join(_block_text(item) for item in value)
    except TypeError:  # not iterable
        return ""
