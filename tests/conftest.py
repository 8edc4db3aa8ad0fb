"""Shared fixtures: a site with a home page, index pages, and users."""

import pytest

from tests.factories import (
    ArticleIndexPageFactory,
    ConferenceIndexPageFactory,
    make_site_home,
)


@pytest.fixture
def home(db):
    """The default site's home page."""
    return make_site_home()


@pytest.fixture
def article_index(home):
    return ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")


@pytest.fixture
def conference_index(home):
    return ConferenceIndexPageFactory(parent=home, title="Conference notes", slug="conferences")
