"""Factories for the portal's models. Tests build only the pages they need with these."""

import datetime
import json

from django.contrib.auth import get_user_model

from wagtail.models import Locale, Page, Site

import factory
import wagtail_factories

from portal.core.models import Sector, Topic
from portal.pages.models import (
    ArticleIndexPage,
    ArticlePage,
    ConferenceIndexPage,
    ConferenceNotesPage,
    HomePage,
    StandardPage,
)


def paragraph(text: str) -> str:
    """A StreamField body (JSON) holding one paragraph, for factories and tests."""
    return json.dumps([{"type": "paragraph", "value": f"<p>{text}</p>"}])


class TopicFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")

    class Meta:
        model = Topic
        django_get_or_create = ("slug",)


class SectorFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Sector {n}")
    slug = factory.Sequence(lambda n: f"sector-{n}")

    class Meta:
        model = Sector
        django_get_or_create = ("slug",)


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)
        if create:
            self.save()


class HomePageFactory(wagtail_factories.PageFactory):
    title = "Hotline Network"
    slug = "home"
    intro = "<p>The network of internet hotlines.</p>"

    class Meta:
        model = HomePage


class ArticleIndexPageFactory(wagtail_factories.PageFactory):
    title = "Best practices"
    slug = factory.Sequence(lambda n: f"best-practices-{n}")

    class Meta:
        model = ArticleIndexPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Best practice {n}")
    slug = factory.Sequence(lambda n: f"best-practice-{n}")
    summary = "What one hotline learned."
    author_organisation = "Example Hotline"
    date = factory.Sequence(lambda n: datetime.date(2015, 1, 1) + datetime.timedelta(days=n))
    body = factory.LazyFunction(lambda: paragraph("Notice and takedown works when hosting providers act fast."))

    class Meta:
        model = ArticlePage


class ConferenceIndexPageFactory(wagtail_factories.PageFactory):
    title = "Conference notes"
    slug = factory.Sequence(lambda n: f"conferences-{n}")

    class Meta:
        model = ConferenceIndexPage


class ConferenceNotesPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Conference {n}")
    slug = factory.Sequence(lambda n: f"conference-{n}")
    event_name = "Joint prevention and awareness conference"
    start_date = datetime.date(2015, 6, 1)
    end_date = datetime.date(2015, 6, 2)
    city = "The Hague"
    country = "NL"
    organisers = "Hotline Network, European police cooperation"
    summary = "Prevention and awareness across hotlines and law enforcement."

    class Meta:
        model = ConferenceNotesPage


class StandardPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Standard page {n}")
    slug = factory.Sequence(lambda n: f"standard-{n}")
    intro = "About the network."

    class Meta:
        model = StandardPage


def make_site_home(**kwargs) -> HomePage:
    """Replace Wagtail's default welcome page with a HomePage and point the default site at it."""
    root = Page.get_first_root_node()
    Page.objects.filter(depth=2).exclude(pk__in=HomePage.objects.values("pk")).delete()
    home = HomePageFactory(parent=root, **kwargs)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "testserver", "port": 80, "root_page": home,
                                        "site_name": "Hotline Network"}
    )
    return home


def translate(page: Page, language: str, **changes) -> Page:
    """Publish a translation of ``page`` (whose parent must already be translated) with these field values, the
    way editors make them (Wagtail's copy for translation, then publish)."""
    locale, _ = Locale.objects.get_or_create(language_code=language)
    translation = page.specific.copy_for_translation(locale)
    for name, value in changes.items():
        setattr(translation, name, value)
    translation.save_revision().publish()
    return Page.objects.get(pk=translation.pk).specific
