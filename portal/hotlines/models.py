"""Member hotlines as data a reporter can use, and the "Where to report" page that lists them.

A ``Hotline`` is a snippet (edited under "Hotlines" in the admin; Wagtail logs who created, changed or deleted
each one). It may point at the member ``Organisation`` it belongs to; what a reporter needs (countries served,
how to report, languages, what it accepts) lives here, so the members app needs to know nothing about it.

Countries with no hotline of their own get the fallback the network recommends: the hotlines that name the
country in ``fallback_for`` (a neighbour), else those marked ``international``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from django_countries.fields import CountryField

from portal.hotlines.choices import CATEGORIES, language_name, validate_categories, validate_language_codes
from portal.pages.models import BasePage


class HotlineForm(WagtailAdminModelForm):
    """Checkboxes for the two lists stored as JSON (never a Ctrl-click multi-select)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django import forms

        from portal.hotlines.choices import language_choices

        self.fields["languages"] = forms.MultipleChoiceField(
            choices=language_choices(), widget=forms.CheckboxSelectMultiple, label="Languages",
            help_text="Languages a report can be made in.",
            initial=self.instance.languages if self.instance.pk else [],
        )
        self.fields["accepts"] = forms.MultipleChoiceField(
            choices=CATEGORIES, widget=forms.CheckboxSelectMultiple, label="Accepts reports of",
            initial=self.instance.accepts if self.instance.pk else [],
        )


def validate_https(url: str) -> None:
    """Reports must not travel unencrypted: a form address only over https."""
    if not url.startswith("https://"):
        raise ValidationError("Use an https:// address: reports must not travel unencrypted.")


class HotlineQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Hotline(models.Model):
    """A hotline the public can report to: where, how, in which languages and what about."""

    name = models.CharField("name", max_length=200, unique=True)
    organisation = models.OneToOneField(
        "members.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="hotline",
        limit_choices_to={"sector__slug": "hotline"}, verbose_name="member organisation",
        help_text="The member organisation (sector: hotline) that runs it, if it is a member.",
    )
    countries = CountryField("countries served", multiple=True, blank=True)
    report_url = models.URLField("report form address", blank=True, validators=[validate_https],
                                 help_text="The hotline's own online reporting form.")
    email = models.EmailField("report email", blank=True)
    phone = models.CharField("report phone", max_length=40, blank=True)
    languages = models.JSONField("languages", default=list, blank=True, validators=[validate_language_codes])
    accepts = models.JSONField("accepts reports of", default=list, blank=True, validators=[validate_categories])
    anonymous = models.BooleanField("anonymous reports", default=True,
                                    help_text="Reports can be made without giving a name.")
    description = models.TextField("short description", max_length=400, blank=True)
    active = models.BooleanField("active", default=True,
                                 help_text="Inactive hotlines are not listed anywhere.")
    international = models.BooleanField(
        "international channel", default=False,
        help_text="Recommended to visitors from any country with no hotline of its own and no neighbour "
                  "named below.",
    )
    fallback_for = CountryField(
        "recommended for", multiple=True, blank=True,
        help_text="Countries with no hotline of their own whose visitors should report here.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = HotlineQuerySet.as_manager()

    base_form_class = HotlineForm
    panels = [
        FieldPanel("name"),
        FieldPanel("organisation"),
        FieldPanel("countries"),
        MultiFieldPanel([FieldPanel("report_url"), FieldRowPanel([FieldPanel("email"), FieldPanel("phone")])],
                        heading="How to report"),
        FieldPanel("languages"),
        FieldPanel("accepts"),
        FieldRowPanel([FieldPanel("anonymous"), FieldPanel("active")]),
        FieldPanel("description"),
        MultiFieldPanel([FieldPanel("international"), FieldPanel("fallback_for")],
                        heading="For countries without a hotline"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = "hotline"
        verbose_name_plural = "hotlines"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {**self._channel_errors(), **self._coverage_errors()}
        if errors:
            raise ValidationError(errors)

    def _coverage_errors(self) -> dict[str, str]:
        """An active hotline is listed for some country: its own, or as a fallback."""
        if self.active and not (self.countries or self.international or self.fallback_for):
            return {"countries": "An active hotline must serve at least one country, or be a fallback."}
        return {}

    def _channel_errors(self) -> dict[str, str]:
        """At least one way to report (the form address must be https: ``validate_https``)."""
        if not (self.report_url or self.email or self.phone):
            return {"report_url": "Give at least one way to report: a form address, an email or a phone."}
        return {}

    @property
    def country_codes(self) -> list[str]:
        return [country.code for country in self.countries]

    @property
    def accept_labels(self) -> list[str]:
        """What it accepts, in the reader's language, in the vocabulary's order."""
        return [str(label) for code, label in CATEGORIES if code in self.accepts]

    @property
    def language_names(self) -> list[str]:
        """Its languages by name in the reader's language."""
        return sorted(language_name(code) for code in self.languages)


class HotlineDirectoryPage(BasePage):
    """"Where to report": the hotline directory with a country picker, filters and a map, and the advice a
    reporter must read first. The hotlines are snippets; this page holds the words around them."""

    intro = models.TextField(blank=True, max_length=500)
    advice = RichTextField(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul"], blank=True,
        help_text="Shown beside the directory: never download, forward or investigate; this site is not a "
                  "reporting channel.",
    )
    no_hotline_text = RichTextField(
        features=["bold", "italic", "link"], blank=True,
        help_text="Shown above the recommended channels when a country has no hotline of its own.",
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("advice"), FieldPanel("no_hotline_text")]

    parent_page_types = ["pages.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1
    template = "hotlines/hotline_directory_page.html"

    class Meta:
        verbose_name = "hotline directory"

    # What the page lists for a request: ``portal.hotlines.services.directory_for_request``, set by the app's
    # ready() (the services read these models, so the models do not import them).
    directory_for_request = None

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["directory"] = type(self).directory_for_request(request)
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        directory = getattr(response, "context_data", {}).get("directory")
        if directory is not None:
            if directory.form_errors:
                response.status_code = 400
            if directory.varies_on_language:
                # The country came from Accept-Language: caches must not give this answer to other browsers.
                response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Accept-Language"]))
        return response
