"""Fixtures for the language tests: a home page, an article index and an article, with translations made the
way editors make them (Wagtail's copy for translation, then publish)."""

from wagtail.models import Locale, Page

import pytest

from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, paragraph


def translate(page: Page, language: str, **changes) -> Page:
    """Publish a translation of ``page`` (whose parent must already be translated) with these field values."""
    locale, _ = Locale.objects.get_or_create(language_code=language)
    translation = page.specific.copy_for_translation(locale)
    for name, value in changes.items():
        setattr(translation, name, value)
    translation.save_revision().publish()
    return Page.objects.get(pk=translation.pk).specific


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
