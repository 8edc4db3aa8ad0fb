"""The network at its real size, for benchmarks and the query-count tests: ``seed(scale, stdout)``.

On top of the demo content (``seed_demo`` first), at ``scale=1.0``: 10,000 published pages over the seven
languages (a third of them translations), 200 restricted subtrees across the five sectors, 60 member
organisations with 2,000 members, 100,000 newsletter subscribers (and a send with a delivery row for each), and
20 statistics datasets with 10 years of quarterly figures for every country. Smaller ``scale`` values shrink
every count (at least one of each), for CI.

Everything is fictional text and figures: organisations named by number, addresses on the example domains,
datasets marked illustrative. Rows are written in bulk: pages get their tree paths computed here (treebeard's
materialised paths, the next free steps under each parent) and are inserted with one statement per table and
batch, published without revisions, then indexed for search in bulk. The tree stays valid (``fixtree`` finds
nothing to fix). Running it again adds as much again (names and addresses continue where the last run
stopped), so a test can measure at one size and then at a larger one.
"""

from __future__ import annotations

import datetime
import itertools
import json
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils import timezone

from wagtail.models import Locale, Page, PageViewRestriction
from wagtail.search.backends import get_search_backend

from newsletter.models import Delivery, NewsletterIssue, Send, Subscriber
from portal.core.models import Sector, Topic
from portal.members.models import Membership, Organisation, SectorGroup
from portal.members.services import groups_for_organisation
from portal.pages.models import ArticleIndexPage, ArticlePage, HomePage, StandardPage
from portal.stats.models import Dataset, Measure, Observation
from portal.stats.models.datasets import period_key

# The full size (scale=1.0).
FULL = {
    "pages": 10_000, "restricted_subtrees": 200, "organisations": 60, "members": 2_000, "subscribers": 100_000,
    "datasets": 20,
}
PAGES_PER_RESTRICTED_SUBTREE = 4  # the restricted page and three pages under it
YEARS = range(2016, 2026)  # ten years of quarterly figures, whatever the scale
COUNTRIES = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IS",
             "IT", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"]
LIBRARY_SLUG = "members-library"
DATASET_PREFIX = "scale-dataset-"
ORGANISATION_PREFIX = "Scale member organisation "
SEND_AUDIENCE_KEY = "scale:every-subscriber"
BATCH = 1000

TOPIC_WORDS = ["notice and takedown", "hash matching", "analyst wellbeing", "public reporting", "registrar outreach",
               "hosting providers", "law enforcement referrals", "prevention campaigns", "statistics quality"]


def counts(scale: float) -> dict[str, int]:
    """What ``seed(scale)`` creates: every count of ``FULL`` times ``scale``, at least one."""
    return {name: max(1, round(full * scale)) for name, full in FULL.items()}


def _paragraphs(*texts: str) -> str:
    return json.dumps([{"type": "paragraph", "value": f"<p>{text}</p>", "id": str(uuid.uuid4())} for text in texts])


# --- Pages in bulk -------------------------------------------------------------------------------------------


def bulk_add_children(parent: Page, pages: list[Page], published_at: datetime.datetime) -> list[Page]:
    """Add ``pages`` (specific instances of one model, not saved) as the next children of ``parent``, live and
    without revisions: their tree paths continue after the parent's last child, one INSERT per table and
    batch. Returns the pages with their ids."""
    if not pages:
        return []
    model = type(pages[0])
    content_type = ContentType.objects.get_for_model(model)
    parent = Page.objects.get(pk=parent.pk)  # its current numchild and last child
    last_child = parent.get_last_child()
    first_step = Page._str2int(last_child.path[-Page.steplen:]) + 1 if last_child else 1
    for step, page in enumerate(pages, first_step):
        _place_live(page, parent, step, content_type, published_at)
    _insert_pages(model, pages)
    Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(pages))
    return pages


def _place_live(page: Page, parent: Page, step: int, content_type, published_at: datetime.datetime) -> None:
    """Give ``page`` the tree position of ``parent``'s ``step``-th child, published at ``published_at``."""
    page.path = Page._get_path(parent.path, parent.depth + 1, step)
    page.depth = parent.depth + 1
    page.numchild = 0
    page.url_path = f"{parent.url_path}{page.slug}/"
    page.content_type = content_type
    page.locale_id = parent.locale_id
    page.live = True
    page.has_unpublished_changes = False
    page.draft_title = page.title
    page.first_published_at = page.last_published_at = published_at
    page.latest_revision_created_at = published_at


def _insert_pages(model, pages: list[Page]) -> None:
    """The pages' rows, one INSERT per table and batch: wagtailcore_page (setting each id), then the model's."""
    local_fields = list(model._meta.local_concrete_fields)
    for start in range(0, len(pages), BATCH):
        batch = pages[start:start + BATCH]
        Page.objects.bulk_create(batch)
        for page in batch:
            page.page_ptr_id = page.id
        model._base_manager.get_queryset()._insert(batch, fields=local_fields)


def index_for_search(model, pages: list[Page]) -> None:
    """Add the pages to the search index in bulk (with their topics read in one query per batch)."""
    backend = get_search_backend()
    ids = [page.pk for page in pages]
    for start in range(0, len(ids), BATCH):
        queryset = model.objects.filter(pk__in=ids[start:start + BATCH])
        if hasattr(model, "topics"):
            queryset = queryset.prefetch_related("topics")
        backend.add_bulk(model, list(queryset))


def _translated(page: Page, locale: Locale, **changes) -> Page:
    """The published translation of ``page`` in ``locale`` (made the editors' way when missing)."""
    existing = page.get_translation_or_none(locale)
    if existing is not None:
        return existing.specific
    translation = page.specific.copy_for_translation(locale)
    for name, value in changes.items():
        setattr(translation, name, value)
    translation.save_revision().publish()
    return Page.objects.get(pk=translation.pk).specific


def _briefing_parts(n: int) -> list[StandardPage]:
    """The pages under the ``n``-th sector briefing (not saved)."""
    return [StandardPage(title=f"Sector briefing {n}, part {part}", slug=f"part-{part}",
                         body=_paragraphs(f"Part {part} of briefing {n}, fictional."))
            for part in range(1, PAGES_PER_RESTRICTED_SUBTREE)]


class _PageBuilder:
    """The scale's pages: articles under the best-practice index of each language and restricted subtrees
    under a members' library, a third of all of them translations."""

    def __init__(self, size: dict[str, int], stdout):
        self.size = size
        self.stdout = stdout
        self.home = HomePage.objects.filter(locale__language_code=settings.LANGUAGE_CODE).first().specific
        self.index = ArticleIndexPage.objects.child_of(self.home).first()
        self.languages = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
        self.locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in self.languages}
        self.topics = list(Topic.objects.order_by("pk"))
        self.sectors = list(Sector.objects.order_by("pk"))
        self.now = timezone.now()
        self.first_article = ArticlePage.objects.filter(slug__startswith="practice-note-",
                                                        locale__language_code=settings.LANGUAGE_CODE).count()
        self.first_briefing = StandardPage.objects.filter(slug__startswith="sector-briefing-",
                                                          locale__language_code=settings.LANGUAGE_CODE).count()

    def build(self) -> int:
        restricted = self.size["restricted_subtrees"] * PAGES_PER_RESTRICTED_SUBTREE
        translations = self.size["pages"] // 3
        articles = max(1, self.size["pages"] - restricted - translations)
        originals = self._articles(articles)
        library = self._library()
        subtrees = self._restricted_subtrees(library)
        made = self._translations(originals, subtrees, library, translations)
        return len(originals) + sum(len(pages) for pages in subtrees) + made

    def _article(self, number: int) -> ArticlePage:
        word = TOPIC_WORDS[number % len(TOPIC_WORDS)]
        return ArticlePage(
            title=f"Practice note {number}: {word}",
            slug=f"practice-note-{number}",
            summary=f"What member hotline {number % 97 + 1} learned about {word}.",
            author_organisation=f"Member organisation {number % 60 + 1:02}",
            date=datetime.date(2016, 1, 1) + datetime.timedelta(days=number % 3650),
            body=_paragraphs(f"Notes on {word} from a fictional member organisation, number {number}.",
                             "The figures are illustrative; no real case is described."),
            reading_time=1,
        )

    def _articles(self, count: int) -> list[ArticlePage]:
        numbers = range(self.first_article, self.first_article + count)
        pages = bulk_add_children(self.index, [self._article(n) for n in numbers], self.now)
        if self.topics:
            through = ArticlePage.topics.through
            through.objects.bulk_create(
                [through(articlepage_id=page.pk, topic_id=self.topics[n % len(self.topics)].pk)
                 for n, page in enumerate(pages)], batch_size=5000)
        index_for_search(ArticlePage, pages)
        self.stdout.write(f"  {len(pages)} articles under {self.index.url}\n")
        return pages

    def _library(self) -> StandardPage:
        library = StandardPage.objects.child_of(self.home).filter(slug=LIBRARY_SLUG).first()
        if library is None:
            library = StandardPage(title="Members' library", slug=LIBRARY_SLUG,
                                   intro="Briefings for the members of each sector.")
            self.home.add_child(instance=library)
            library.save_revision().publish()
        return library

    def _restricted_subtrees(self, library: StandardPage) -> list[list[StandardPage]]:
        """Each restricted subtree as [its top page, the pages under it]; the top page is restricted to the
        members of one sector (in turn)."""
        count = self.size["restricted_subtrees"]
        numbers = range(self.first_briefing, self.first_briefing + count)
        tops = bulk_add_children(library, [
            StandardPage(title=f"Sector briefing {n}", slug=f"sector-briefing-{n}",
                         intro="For the members of one sector.", body=_paragraphs(f"Briefing {n}, fictional."))
            for n in numbers], self.now)
        subtrees = [[top, *bulk_add_children(top, _briefing_parts(n), self.now)]
                    for n, top in zip(numbers, tops, strict=True)]
        self._restrict_to_sectors(numbers, tops)
        index_for_search(StandardPage, [page for pages in subtrees for page in pages])
        self.stdout.write(f"  {count} restricted subtrees of {PAGES_PER_RESTRICTED_SUBTREE} pages under "
                          f"{library.url}\n")
        return subtrees

    def _restrict_to_sectors(self, numbers, tops: list[StandardPage]) -> None:
        """Restrict the ``n``-th top page to the members of the ``n``-th sector (in turn)."""
        groups = dict(SectorGroup.objects.values_list("sector_slug", "group_id"))
        restrictions = PageViewRestriction.objects.bulk_create(
            [PageViewRestriction(page=top, restriction_type=PageViewRestriction.GROUPS) for top in tops])
        through = PageViewRestriction.groups.through
        sectors = [self.sectors[n % len(self.sectors)].slug for n in numbers]
        through.objects.bulk_create([through(pageviewrestriction_id=restriction.pk, group_id=groups[sector])
                                     for sector, restriction in zip(sectors, restrictions, strict=True)
                                     if sector in groups])

    def _translations(self, originals, subtrees, library, count: int) -> int:
        """``count`` translations: every third restricted subtree (whole), then articles, each in one language
        (in turn), under that language's home, index and library (translated the editors' way when missing)."""
        made = 0
        languages = itertools.cycle(self.languages)
        plan = {code: ([], []) for code in self.languages}  # per language: (articles, subtrees) to translate
        for subtree in subtrees[::3]:
            if made + len(subtree) > count:
                break
            plan[next(languages)][1].append(subtree)
            made += len(subtree)
        articles = originals[:count - made]
        for original in articles:
            plan[next(languages)][0].append(original)
        made += len(articles)
        for code, (language_articles, language_subtrees) in plan.items():
            self._translate_into(code, language_articles, language_subtrees, library)
        self.stdout.write(f"  {made} translations in {len(self.languages)} languages\n")
        return made

    def _translate_into(self, code: str, articles: list[Page], subtrees: list[list[Page]], library) -> None:
        if not (articles or subtrees):
            return
        locale = self.locales[code]
        _translated(self.home, locale)  # the parent of the index and library translations
        index = _translated(self.index, locale)
        translated = bulk_add_children(index, [self._translation_of(page, code) for page in articles], self.now)
        index_for_search(ArticlePage, translated)
        if subtrees:
            self._translate_subtrees(code, subtrees, _translated(library, locale))

    def _translate_subtrees(self, code: str, subtrees: list[list[Page]], translated_library: Page) -> None:
        """Each restricted subtree's translation under the library's, its top page first, then the pages under it."""
        tops = bulk_add_children(translated_library, [self._translation_of(pages[0], code) for pages in subtrees],
                                 self.now)
        under = []
        for top, pages in zip(tops, subtrees, strict=True):
            under += bulk_add_children(top, [self._translation_of(page, code) for page in pages[1:]], self.now)
        index_for_search(StandardPage, [*tops, *under])

    @staticmethod
    def _translation_of(page: Page, code: str) -> Page:
        copy = type(page)(**{field.attname: getattr(page, field.attname)
                             for field in type(page)._meta.concrete_fields
                             if field.attname not in ("id", "page_ptr_id", "path", "depth", "numchild", "url_path",
                                                      "locale_id", "content_type_id", "draft_title")})
        copy.title = f"{page.title} [{code}]"
        copy.slug = f"{page.slug}-{code}" if isinstance(page, ArticlePage) else page.slug
        copy.translation_key = page.translation_key
        return copy


# --- Members, subscribers, statistics ------------------------------------------------------------------------


def _members(size: dict[str, int], stdout) -> None:
    organisations = _organisations(size["organisations"])
    users = _member_users(size["members"])
    employers = [organisations[n % len(organisations)] for n in range(len(users))]  # members spread evenly
    Membership.objects.bulk_create([Membership(user=user, organisation=organisation)
                                    for user, organisation in zip(users, employers, strict=True)], batch_size=BATCH)
    _join_organisation_groups(users, employers)
    stdout.write(f"  {len(organisations)} organisations, {len(users)} members\n")


def _join_organisation_groups(users: list, employers: list[Organisation]) -> None:
    """Each member in the groups their organisation gives (members, and the organisation's sector)."""
    groups = {organisation.pk: [group.pk for group in groups_for_organisation(organisation)]
              for organisation in set(employers)}
    through = get_user_model().groups.through
    through.objects.bulk_create([through(user_id=user.pk, group_id=group_id)
                                 for user, organisation in zip(users, employers, strict=True)
                                 for group_id in groups[organisation.pk]], batch_size=5000)


def _organisations(count: int) -> list[Organisation]:
    """``count`` more member organisations, spread over the sectors and countries."""
    sectors = list(Sector.objects.order_by("pk"))
    first = Organisation.objects.filter(name__startswith=ORGANISATION_PREFIX).count()
    return Organisation.objects.bulk_create([
        Organisation(name=f"{ORGANISATION_PREFIX}{n + 1:03}", sector=sectors[n % len(sectors)],
                     country=COUNTRIES[n % len(COUNTRIES)], email_domains=f"member{n + 1:03}.example.org",
                     member_since=datetime.date(2005, 1, 1) + datetime.timedelta(days=97 * (n % 80)))
        for n in range(first, first + count)])


def _member_users(count: int) -> list:
    """``count`` more member accounts, with unusable passwords: these members never sign in with one."""
    password = make_password(None)
    user_model = get_user_model()
    first = user_model.objects.filter(username__startswith="scale-member-").count()
    return user_model.objects.bulk_create([
        user_model(username=f"scale-member-{n + 1:05}", email=f"member{n + 1:05}@example.org",
                   first_name="Member", last_name=f"{n + 1:05}", password=password)
        for n in range(first, first + count)], batch_size=BATCH)


# Eight in ten subscribed, one unsubscribed, one still to confirm; addresses on three example domains.
SUBSCRIBER_STATUSES = [Subscriber.Status.SUBSCRIBED] * 8 + [Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.PENDING]
SUBSCRIBER_DOMAINS = ["example.org", "example.net", "example.com"]


def _subscribers(size: dict[str, int], stdout) -> None:
    now = timezone.now()
    first = Subscriber.objects.filter(email__startswith="scale-reader").count()
    subscribers = Subscriber.objects.bulk_create(
        [_subscriber(n, now) for n in range(first, first + size["subscribers"])], batch_size=5000)
    _follow_topics(subscribers)
    issue = NewsletterIssue.objects.live().order_by("pk").first()
    if issue is not None:
        _paused_send(issue, subscribers, now)
    stdout.write(f"  {len(subscribers)} subscribers and a paused send to the subscribed ones\n")


def _subscriber(n: int, now) -> Subscriber:
    languages = [code for code, _name in settings.LANGUAGES]
    status = SUBSCRIBER_STATUSES[n % len(SUBSCRIBER_STATUSES)]
    joined = now - datetime.timedelta(minutes=n)
    return Subscriber(email=f"scale-reader{n + 1:06}@{SUBSCRIBER_DOMAINS[n % 3]}", status=status,
                      language=languages[n % len(languages)], source=Subscriber.Source.DEMO, created_at=joined,
                      requested_at=joined, confirmed_at=None if status == Subscriber.Status.PENDING else now)


def _follow_topics(subscribers: list[Subscriber]) -> None:
    """Each subscriber follows one topic, in turn."""
    topics = list(Topic.objects.order_by("pk"))
    through = Subscriber.topics.through
    through.objects.bulk_create([through(subscriber_id=subscriber.pk, topic_id=topics[n % len(topics)].pk)
                                 for n, subscriber in enumerate(subscribers) if topics], batch_size=5000)


def _paused_send(issue, subscribers: list[Subscriber], now) -> None:
    """A paused send of ``issue`` to the subscribed ones: two thirds already sent, a third still queued."""
    send, _created = Send.objects.get_or_create(issue=issue, audience_key=SEND_AUDIENCE_KEY, defaults={
        "status": Send.Status.PAUSED, "audience_label": "Every subscriber (seed_scale)", "frozen_at": now,
        "started_at": now, "paused_reason": "Benchmark data: nothing is sent.", "last_activity_at": now})
    Delivery.objects.bulk_create([_delivery(send, subscriber, now, sent=bool(n % 3))
                                  for n, subscriber in enumerate(subscribers)
                                  if subscriber.status == Subscriber.Status.SUBSCRIBED], batch_size=5000)


def _delivery(send: Send, subscriber: Subscriber, now, *, sent: bool) -> Delivery:
    if sent:
        return Delivery(send=send, subscriber=subscriber, email=subscriber.email, status=Delivery.Status.SENT,
                        sent_at=now, copies=1, attempts=1)
    return Delivery(send=send, subscriber=subscriber, email=subscriber.email, status=Delivery.Status.QUEUED)


def _statistics(size: dict[str, int], stdout) -> None:
    codes = list(Measure.objects.order_by("sort_order", "pk").values_list("code", flat=True)[:4]) or ["reports"]
    first = Dataset.objects.filter(slug__startswith=DATASET_PREFIX).count()
    datasets = Dataset.objects.bulk_create([
        Dataset(title=f"Scale dataset {n + 1:02} (illustrative)", slug=f"{DATASET_PREFIX}{n + 1:02}",
                description="Fictional quarterly figures per country, for benchmarks.", illustrative=True,
                source="seed_scale", licence="CC BY 4.0")
        for n in range(first, first + size["datasets"])])
    rows = [row for d, dataset in enumerate(datasets) for row in _observations(d, dataset, codes)]
    Observation.objects.bulk_create(rows, batch_size=5000)
    stdout.write(f"  {len(datasets)} datasets, {len(rows)} quarterly observations\n")


def _observations(d: int, dataset: Dataset, codes: list[str]):
    """Ten years of quarterly figures for each country and the network total ("") of the ``d``-th dataset."""
    for year, quarter in itertools.product(YEARS, range(1, 5)):
        for c, country in enumerate(["", *COUNTRIES]):
            base = (d + 1) * 100 + (year - 2015) * 40 + quarter * 7 + c * 13
            if not country:  # the network total is the sum of many countries
                base *= len(COUNTRIES)
            yield Observation(dataset=dataset, year=year, quarter=quarter, period_key=period_key(year, quarter),
                              country=country, values={code: base // (i + 1) for i, code in enumerate(codes)})


def seed(scale: float, stdout) -> dict[str, int]:
    """Build the network at ``scale`` (1.0: full size) on top of the demo content; returns what it made."""
    if HomePage.objects.filter(locale__language_code=settings.LANGUAGE_CODE).first() is None:
        raise RuntimeError("No home page: run seed_demo first.")
    size = counts(scale)
    made = dict(size)
    made["pages"] = _PageBuilder(size, stdout).build()
    _members(size, stdout)
    _subscribers(size, stdout)
    _statistics(size, stdout)
    return made
