"""Fixtures for the language tests: a home page, an article index and an article, with translations made the
way editors make them (Wagtail's copy for translation, then publish)."""

import pytest

from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, paragraph, translate


@pytest.fixture
def index(home):
    return ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")


@pytest.fixture
def article(index):
    return ArticlePageFactory(
        parent=index, title="Fast takedown", slug="fast-takedown", summary="Takedown in hours.",
        body=paragraph("Hosting providers act fast when hotlines call them (quillfeather)."),
    )


@pytest.fixture
def french(home, index, article):
    """The home page, index and article in French (the article's slug translated too)."""
    return {
        "home": translate(home, "fr", title="Réseau de hotlines"),
        "index": translate(index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques"),
        "article": translate(
            article, "fr", title="Retrait rapide", slug="retrait-rapide", summary="Retrait en quelques heures.",
            body=paragraph("Les hébergeurs agissent vite quand les hotlines les appellent (quillfeather)."),
        ),
    }
