"""Factories for the hotline directory: fictional hotlines on reserved ``.example`` domains."""

import factory
import wagtail_factories

from portal.hotlines.models import Hotline, HotlineDirectoryPage


class HotlineFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Hotline {n}")
    countries = ["FR"]
    report_url = factory.LazyAttribute(lambda o: f"https://report.{o.name.lower().replace(' ', '-')}.example/")
    email = ""
    languages = ["fr", "en"]
    accepts = ["csam", "grooming"]

    class Meta:
        model = Hotline


class HotlineDirectoryPageFactory(wagtail_factories.PageFactory):
    title = "Where to report"
    slug = "where-to-report"
    intro = "Choose your country."

    class Meta:
        model = HotlineDirectoryPage
