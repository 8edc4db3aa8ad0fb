"""Automatic lists pick pages in the issue's language: "Latest from a topic" (email and web archive) and the
monthly digest show one version of each page, the reader's language where a translation exists, else the original.

(The English demo issue used to list an article's German and French translations, newer than the original, and
leave the English original out.)
"""

import datetime

from django.utils import timezone

from wagtail.models import Page

import pytest

from newsletter.services import rendering
from newsletter.services.digest import assemble_monthly_digest
from tests.factories import ArticlePageFactory, translate
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue


def published_on(page, day: datetime.date):
    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_current_timezone())
    Page.objects.filter(pk=page.pk).update(first_published_at=moment)
    return page


@pytest.fixture
def sites(home, article_index):
    """English home, articles and archive, each translated into German and French."""
    archive = NewsletterIndexPageFactory(parent=home)
    translated = {}
    for language in ("de", "fr"):
        translate(home, language, title=f"Home {language}")
        translated[language] = (translate(article_index, language, title=f"Articles {language}"),
                                translate(archive, language, title=f"Newsletter {language}"))
    return archive, translated


@pytest.fixture
def articles(sites, article_index, topics):
    """An English article translated into German and French (the translations newer), an English article
    nobody translated, and an article first written in German."""
    _archive, translated = sites
    takedown, _prevention = topics
    original = ArticlePageFactory(parent=article_index, title="Takedown in practice")
    original.topics.set([takedown])
    original.save()  # a parental relation is written on save
    published_on(original, datetime.date(2026, 10, 1))
    published_on(translate(original, "de", title="Entfernung in der Praxis"), datetime.date(2026, 10, 20))
    published_on(translate(original, "fr", title="Le retrait en pratique"), datetime.date(2026, 10, 21))
    untranslated = ArticlePageFactory(parent=article_index, title="Hash lists explained")
    untranslated.topics.set([takedown])
    untranslated.save()  # a parental relation is written on save
    published_on(untranslated, datetime.date(2026, 10, 2))
    german_only = ArticlePageFactory(parent=translated["de"][0], title="Meldestellen im Verbund")
    german_only.topics.set([takedown])
    german_only.save()  # a parental relation is written on save
    published_on(german_only, datetime.date(2026, 10, 3))
    return takedown


ENGLISH = ["Meldestellen im Verbund", "Hash lists explained", "Takedown in practice"]
GERMAN = ["Meldestellen im Verbund", "Hash lists explained", "Entfernung in der Praxis"]
EVERY_TITLE = {"Takedown in practice", "Entfernung in der Praxis", "Le retrait en pratique", "Hash lists explained",
               "Meldestellen im Verbund"}


def listed(html: str) -> list[str]:
    """The article titles in the order the list shows them."""
    return sorted((title for title in EVERY_TITLE if title in html), key=html.index)


def latest_block(topic) -> dict:
    return {"type": "latest_from_topic", "value": {"topic": topic.pk, "heading": "", "count": 3}}


def test_latest_from_a_topic_lists_each_page_once_in_the_issues_language(sites, articles, client):
    archive, _translated = sites
    issue = make_issue(archive, subject="Takedown news", blocks=[latest_block(articles)])
    german_issue = translate(issue, "de", subject="Neues zur Entfernung")

    assert listed(rendering.render_issue(issue).html) == ENGLISH
    assert listed(rendering.render_issue(german_issue).html) == GERMAN
    # A language with no translations at all: the originals.
    french_issue = translate(issue, "fr", subject="Nouvelles du retrait")
    assert listed(rendering.render_issue(french_issue).html) == [
        "Meldestellen im Verbund", "Hash lists explained", "Le retrait en pratique"]

    # The web archive pages list the same.
    assert listed(client.get(issue.url).content.decode()) == ENGLISH
    assert listed(client.get(german_issue.url).content.decode()) == GERMAN


def test_the_digest_lists_each_new_page_once_in_its_language(sites, articles, article_index):
    older = ArticlePageFactory(parent=article_index, title="September report")
    published_on(older, datetime.date(2026, 9, 10))
    published_on(translate(older, "de", title="Septemberbericht"), datetime.date(2026, 10, 5))  # not new

    issue = assemble_monthly_digest(datetime.date(2026, 10, 1))

    featured = [block.value["page"].title for block in issue.body if block.block_type == "featured_page"]
    assert sorted(featured) == sorted(ENGLISH)
