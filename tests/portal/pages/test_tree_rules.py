"""Every page type can be created where the tree allows it and nowhere else."""

from wagtail.models import Page

import pytest

from portal.pages.models import (
    ArticleIndexPage,
    ArticlePage,
    ConferenceIndexPage,
    ConferenceNotesPage,
    HomePage,
    StandardPage,
)
from tests.factories import ArticlePageFactory, ConferenceNotesPageFactory, StandardPageFactory

ALL_TYPES = [HomePage, ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, StandardPage]

# The page types an editor may add under each parent; everything else must be refused.
ALLOWED_CHILDREN = {
    "home": {ArticleIndexPage, ConferenceIndexPage, StandardPage},
    "article_index": {ArticlePage},
    "article": set(),
    "conference_index": {ConferenceNotesPage},
    "conference": set(),
    "standard": {StandardPage},
}


@pytest.fixture
def tree(home, article_index, conference_index):
    return {
        "home": home,
        "article_index": article_index,
        "article": ArticlePageFactory(parent=article_index),
        "conference_index": conference_index,
        "conference": ConferenceNotesPageFactory(parent=conference_index),
        "standard": StandardPageFactory(parent=home),
    }


@pytest.mark.parametrize("parent_name", sorted(ALLOWED_CHILDREN))
def test_only_allowed_children_can_be_created(tree, parent_name):
    parent = tree[parent_name]
    creatable = {model for model in ALL_TYPES if model.can_create_at(parent)}
    # Stats and other apps may add further children to the home page; the portal's own types must match exactly.
    assert creatable == ALLOWED_CHILDREN[parent_name]


def test_home_page_is_a_singleton(home):
    root = Page.get_first_root_node()
    assert HomePage.can_exist_under(root)
    assert not HomePage.can_create_at(root)


def test_content_pages_cannot_sit_at_the_root(db):
    root = Page.get_first_root_node()
    for model in [ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, StandardPage]:
        assert not model.can_create_at(root), model


def test_conference_cannot_end_before_it_starts(conference_index):
    import datetime

    from django.core.exceptions import ValidationError

    notes = ConferenceNotesPageFactory.build(
        start_date=datetime.date(2015, 6, 2), end_date=datetime.date(2015, 6, 1)
    )
    notes.path, notes.depth = "00010001", 2  # treebeard fields, so full_clean reaches our own rule
    with pytest.raises(ValidationError) as excinfo:
        notes.full_clean()
    assert "end_date" in excinfo.value.message_dict
