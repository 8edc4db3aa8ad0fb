"""Taxonomy shared by every content type: topics and the sectors of the network's members."""

from django.db import models
from django.utils.text import slugify

from wagtail.admin.panels import FieldPanel
from wagtail.models import TranslatableMixin
from wagtail.search import index


class TaxonomyBase(TranslatableMixin, index.Indexed, models.Model):
    """A named, slugged term used to filter listings (`?topic=slug`, `?sector=slug`).

    Translatable: each language version is a row with the same ``translation_key``. Pages, subscriptions
    and organisations point at the default-language row; translations give the term's name in other
    languages. Names and slugs are unique within a language.
    """

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, help_text="Used in URLs, e.g. ?topic=prevention")
    description = models.TextField(blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta(TranslatableMixin.Meta):
        abstract = True
        ordering = ["name"]
        unique_together = [("translation_key", "locale"), ("slug", "locale"), ("name", "locale")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)
        super().save(*args, **kwargs)


class Topic(TaxonomyBase):
    """A subject area such as "Notice and takedown" or "Prevention"."""

    class Meta(TaxonomyBase.Meta):
        verbose_name = "topic"


class Sector(TaxonomyBase):
    """A sector of the network: hotlines, NGOs, industry, law enforcement, government."""

    class Meta(TaxonomyBase.Meta):
        verbose_name = "sector"
