"""Editors tick topics and sectors on an article (issue 20, point 13): checkboxes, not a Ctrl-click multi-select."""

from django.urls import reverse

import pytest
from bs4 import BeautifulSoup

from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, SectorFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_article_topics_and_sectors_are_checkboxes(admin_client, home):
    prevention = TopicFactory(name="Prevention", slug="prevention")
    TopicFactory(name="Sextortion", slug="sextortion")
    hotlines = SectorFactory(name="Hotlines", slug="hotlines")
    article = ArticlePageFactory(parent=ArticleIndexPageFactory(parent=home), title="Fast takedown")

    url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    soup = BeautifulSoup(admin_client.get(url).content, "html.parser")
    for name in ("topics", "sectors"):
        assert not soup.select(f"select[name={name}]"), name
    boxes = {box.find_parent("label").get_text(strip=True): box
             for box in soup.select("input[type=checkbox][name=topics]")}
    assert {"Prevention", "Sextortion"} <= set(boxes)
    assert soup.select_one(f"input[type=checkbox][name=sectors][value='{hotlines.pk}']")
    assert int(boxes["Prevention"]["value"]) == prevention.pk
