"""Fixtures for rendering tests: topics, sectors and users."""

from wagtail.models import PageViewRestriction

import pytest

from tests.factories import SectorFactory, TopicFactory, UserFactory


@pytest.fixture
def prevention(db):
    return TopicFactory(name="Prevention", slug="prevention")


@pytest.fixture
def takedown(db):
    return TopicFactory(name="Notice and takedown", slug="notice-and-takedown")


@pytest.fixture
def industry(db):
    return SectorFactory(name="Industry", slug="industry")


@pytest.fixture
def member(db):
    """A logged-in network member (passes "login" view restrictions)."""
    return UserFactory()


@pytest.fixture
def restrict():
    """Make a page members-only (a Wagtail login view restriction on it)."""

    def _restrict(page):
        return PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)

    return _restrict
