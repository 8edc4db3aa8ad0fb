"""THE privacy matrix: every channel by every kind of viewer, for a restricted page and a restricted document.

Each restricted item carries a unique word (in its title, slug, summary and body, or the document's title and
file). The word must reach exactly the viewers allowed to read the item, on every channel: the channels that
are public by design (feeds, sitemap) never carry it. A public control item with its own word must appear on
every channel for every viewer, so a channel that shows nothing at all cannot pass by accident.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

import pytest

from portal.members.services import set_organisation_active
from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, paragraph
from tests.portal.members.factories import member_of

PUBLIC_WORD = "Plumtreasure"
RESTRICTED_WORD = "Zanthorpe"
# Both articles' bodies hold this word; search for it (the results page repeats the query itself).
SEARCH_WORD = "Kelvinshard"
SCENARIOS = ["sector", "members-only"]


@pytest.fixture(autouse=True)
def files_on_disk(settings, tmp_path):
    """Documents on a real file system, as in production (the test settings' in-memory storage reports a
    filesystem path that does not exist, which the serve view turns into a 404)."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@dataclass
class World:
    index: object
    public_page: object
    restricted_page: object
    public_document: object
    restricted_document: object


def build_world(home, scenario: str) -> World:
    """A public article and document, and a restricted article and document, under the home page."""
    police = Group.objects.get(name="Law enforcement")
    index = ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")
    public_page = ArticlePageFactory(
        parent=index, title=f"Open {PUBLIC_WORD} practice", slug=PUBLIC_WORD.lower(),
        summary=f"{PUBLIC_WORD} summary.", body=paragraph(f"{PUBLIC_WORD} body about {SEARCH_WORD}."),
    )
    restricted_page = ArticlePageFactory(
        parent=index, title=f"Closed {RESTRICTED_WORD} practice", slug=RESTRICTED_WORD.lower(),
        summary=f"{RESTRICTED_WORD} summary.",
        body=paragraph(f"{RESTRICTED_WORD} operational detail about {SEARCH_WORD}."),
    )
    document_model = get_document_model()
    root = Collection.get_first_root_node()
    public_document = document_model.objects.create(
        title=f"{PUBLIC_WORD} leaflet", collection=root,
        file=ContentFile(f"{PUBLIC_WORD} leaflet text".encode(), name="leaflet.txt"),
    )
    if scenario == "sector":
        restriction = PageViewRestriction.objects.create(page=restricted_page, restriction_type="groups")
        restriction.groups.set([police])
        collection = root.add_child(name="Law enforcement documents")
        collection_restriction = CollectionViewRestriction.objects.create(collection=collection,
                                                                          restriction_type="groups")
        collection_restriction.groups.set([police])
    else:
        PageViewRestriction.objects.create(page=restricted_page, restriction_type="login")
        collection = Collection.objects.get(name="Members' documents")  # restricted to login by migration
    restricted_document = document_model.objects.create(
        title=f"{RESTRICTED_WORD} briefing", collection=collection,
        file=ContentFile(f"{RESTRICTED_WORD} briefing text".encode(), name="briefing.txt"),
    )
    return World(index, public_page, restricted_page, public_document, restricted_document)


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def page_of(world: World, restricted: bool):
    return world.restricted_page if restricted else world.public_page


def document_of(world: World, restricted: bool):
    return world.restricted_document if restricted else world.public_document


CHANNELS = {
    "page view": lambda c, w, r: c.get(page_of(w, r).url),
    "index listing": lambda c, w, r: c.get(w.index.url),
    "home": lambda c, w, r: c.get("/en/"),
    "search": lambda c, w, r: c.get("/en/search/", {"q": SEARCH_WORD}),
    "rss": lambda c, w, r: c.get("/feeds/latest/rss/"),
    "atom": lambda c, w, r: c.get("/feeds/latest/atom/"),
    "sitemap": lambda c, w, r: c.get("/sitemap.xml"),
    "api pages list": lambda c, w, r: c.get("/api/v2/pages/", {"type": "pages.ArticlePage", "fields": "summary"}),
    "api pages detail": lambda c, w, r: c.get(f"/api/v2/pages/{page_of(w, r).id}/"),
    "api documents": lambda c, w, r: c.get("/api/v2/documents/"),
    "document download": lambda c, w, r: c.get(document_of(w, r).url),
}
# Channels that serve everyone the same public view (cacheable), so restricted items never appear there.
PUBLIC_ONLY_CHANNELS = {"rss", "atom", "sitemap"}

VIEWERS = ["anonymous", "hotline member", "law-enforcement member", "deactivated law-enforcement member"]


def may_read(viewer: str, scenario: str) -> bool:
    if viewer == "anonymous" or viewer.startswith("deactivated"):
        return False
    if scenario == "members-only":
        return True
    return viewer == "law-enforcement member"


def log_in(client, viewer: str) -> None:
    if viewer == "anonymous":
        return
    user = member_of("law-enforcement" if "law-enforcement" in viewer else "hotline")
    client.force_login(user)
    if viewer.startswith("deactivated"):
        set_organisation_active(user.membership.organisation, False)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("channel", list(CHANNELS))
def test_restricted_word_reaches_only_allowed_viewers(client, home, channel, scenario, viewer):
    world = build_world(home, scenario)
    log_in(client, viewer)
    fetch = CHANNELS[channel]

    public = fetch(client, world, False)
    assert public.status_code == 200, f"{channel}: public item not served ({public.status_code})"
    assert PUBLIC_WORD.lower() in _text(public).lower(), f"{channel}: the public control item is missing"

    restricted = fetch(client, world, True)
    text = _text(restricted)
    expected = may_read(viewer, scenario) and channel not in PUBLIC_ONLY_CHANNELS
    if expected:
        assert restricted.status_code == 200
        assert RESTRICTED_WORD.lower() in text.lower(), f"{channel}: {viewer} should see the {scenario} item"
    else:
        assert RESTRICTED_WORD not in text, f"{channel} leaks the {scenario} item to {viewer}"
        assert RESTRICTED_WORD.lower() not in text.lower()
