"""A restricted page stays restricted in every language.

Wagtail's view restrictions belong to one page, and a translation is another page. The privacy gate's
effective-restriction rule (and page serving, which asks it) treats a restriction on any language version of a
page or of its ancestors as covering them all; no restriction rows are copied between language versions. The
matrix below removes any row a translation might carry, then checks every channel of the members' privacy matrix
in French.
"""

from django.contrib.auth.models import Group

from wagtail.models import PageViewRestriction

import pytest

from portal.core.privacy import Viewer, can_view, closed_paths
from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, StandardPageFactory, paragraph, translate
from tests.portal.members.test_privacy_matrix import (
    PUBLIC_WORD,
    RESTRICTED_WORD,
    SCENARIOS,
    SEARCH_WORD,
    _text,
    build_world,
    log_in,
    may_read,
)

pytestmark = pytest.mark.django_db


def restrict(page, scenario: str) -> PageViewRestriction:
    if scenario == "sector":
        restriction = PageViewRestriction.objects.create(page=page, restriction_type="groups")
        restriction.groups.set([Group.objects.get(name="Law enforcement")])
        return restriction
    return PageViewRestriction.objects.create(page=page, restriction_type="login")


def drop_copies(*pages) -> None:
    """Remove any restriction rows from these translations only (the source's row must cover them)."""
    PageViewRestriction.objects.filter(page__in=pages).delete()


def french_world(home, scenario: str):
    world = build_world(home, scenario)
    fr_home = translate(home, "fr", title="Réseau")
    fr_index = translate(world.index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques")
    fr_public = translate(world.public_page, "fr", title=f"Pratique ouverte {PUBLIC_WORD}",
                          slug=f"{PUBLIC_WORD.lower()}-fr", summary=f"Résumé {PUBLIC_WORD}.",
                          body=paragraph(f"Texte {PUBLIC_WORD} sur {SEARCH_WORD}."))
    fr_restricted = translate(world.restricted_page, "fr", title=f"Pratique fermée {RESTRICTED_WORD}",
                              slug=f"{RESTRICTED_WORD.lower()}-fr", summary=f"Résumé {RESTRICTED_WORD}.",
                              body=paragraph(f"Détail opérationnel {RESTRICTED_WORD} sur {SEARCH_WORD}."))
    assert not can_view(fr_restricted, Viewer.anonymous()), "the translation is not covered by its source's restriction"
    drop_copies(fr_restricted)
    return {"home": fr_home, "index": fr_index, "public": fr_public, "restricted": fr_restricted}


FRENCH_CHANNELS = {
    "page view": lambda c, w, r: c.get(w["restricted" if r else "public"].url),
    "index listing": lambda c, w, r: c.get(w["index"].url),
    "home": lambda c, w, r: c.get("/fr/"),
    "search": lambda c, w, r: c.get("/fr/search/", {"q": SEARCH_WORD}),
    "rss": lambda c, w, r: c.get("/fr/feeds/latest/rss/"),
    "atom": lambda c, w, r: c.get("/fr/feeds/latest/atom/"),
    "sitemap": lambda c, w, r: c.get("/sitemap.xml"),
    "api pages list": lambda c, w, r: c.get("/api/v2/pages/", {"type": "pages.ArticlePage", "fields": "summary",
                                                               "locale": "fr"}),
    "api pages detail": lambda c, w, r: c.get(f"/api/v2/pages/{w['restricted' if r else 'public'].id}/"),
}
PUBLIC_ONLY_CHANNELS = {"rss", "atom", "sitemap"}
VIEWERS = ["anonymous", "hotline member", "law-enforcement member"]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("channel", list(FRENCH_CHANNELS))
def test_translation_of_a_restricted_page_reaches_only_allowed_viewers(client, home, channel, scenario, viewer):
    world = french_world(home, scenario)
    log_in(client, viewer)
    fetch = FRENCH_CHANNELS[channel]

    public = fetch(client, world, False)
    assert public.status_code == 200, f"{channel}: public translation not served ({public.status_code})"
    assert PUBLIC_WORD.lower() in _text(public).lower(), f"{channel}: the public control translation is missing"

    restricted = fetch(client, world, True)
    text = _text(restricted).lower()
    if may_read(viewer, scenario) and channel not in PUBLIC_ONLY_CHANNELS:
        assert restricted.status_code == 200
        assert RESTRICTED_WORD.lower() in text, f"{channel}: {viewer} should see the French {scenario} item"
    else:
        assert RESTRICTED_WORD.lower() not in text, f"{channel} leaks the French {scenario} item to {viewer}"


def test_restriction_on_a_section_covers_a_translation_filed_elsewhere(home):
    """A French page whose English source sits in a restricted section stays closed even outside the
    French version of that section."""
    section = StandardPageFactory(parent=home, slug="members-section")
    source = StandardPageFactory(parent=section, slug="briefing", intro=RESTRICTED_WORD)
    restrict(section, "members-only")
    fr_home = translate(home, "fr")
    elsewhere = StandardPageFactory(parent=fr_home, slug="briefing-fr", intro=RESTRICTED_WORD)
    elsewhere.translation_key = source.translation_key
    elsewhere.locale = fr_home.locale
    elsewhere.save()
    assert not can_view(elsewhere, Viewer.anonymous())
    assert any(elsewhere.path.startswith(path) for path in closed_paths(Viewer.anonymous()))
    assert can_view(elsewhere, Viewer.members_of([]))


def test_a_restriction_covers_existing_and_new_translations_and_removing_it_opens_them_all(home):
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    page = ArticlePageFactory(parent=index, slug="closed")
    translate(home, "fr")
    translate(index, "fr")
    fr_page = translate(page, "fr")
    restriction = restrict(page, "sector")
    law_enforcement = Viewer.members_of([Group.objects.get(name="Law enforcement").pk])
    assert not can_view(fr_page, Viewer.anonymous()) and can_view(fr_page, law_enforcement)

    translate(home, "de")
    translate(index, "de")
    de_page = translate(page, "de")
    assert not can_view(de_page, Viewer.anonymous()) and can_view(de_page, law_enforcement)
    # One row, on the page the editor restricted: the translations made after it hold no copies.
    assert list(PageViewRestriction.objects.values_list("page_id", flat=True)) == [page.pk]

    restriction.delete()  # an editor makes the page public again: every language version follows
    for version in (page, fr_page, de_page):
        assert can_view(version, Viewer.anonymous())


def test_deleting_a_translation_leaves_the_source_restricted(home):
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    page = ArticlePageFactory(parent=index, slug="closed")
    translate(home, "fr")
    translate(index, "fr")
    fr_page = translate(page, "fr")
    restrict(page, "members-only")
    fr_page.delete()
    assert PageViewRestriction.objects.filter(page=page).exists()


def test_serving_a_translation_without_its_copy_asks_for_login(client, home):
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    page = ArticlePageFactory(parent=index, slug="closed", summary=RESTRICTED_WORD)
    restrict(page, "members-only")
    translate(home, "fr")
    translate(index, "fr")
    fr_page = translate(page, "fr", slug="ferme")
    drop_copies(fr_page)
    response = client.get(fr_page.url)
    assert response.status_code == 302 and "/members/login/" in response["Location"]
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
