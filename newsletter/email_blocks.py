"""Email-safe StreamField blocks for newsletter issues.

Each block renders with a table-based template under ``templates/email/blocks/`` that works in email
clients (inline-styled after CSS inlining) and in the issue's web archive page alike. Blocks that point at
portal content expose ``referenced_pages`` so the access gate can check them against the issue's audience;
the automatic list picks only pages the whole audience may read.
"""

from __future__ import annotations

from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from newsletter.services.languages import issue_language
from portal.core import privacy
from portal.core.blocks import RICH_TEXT_FEATURES, RichTextBlock

EMAIL_RICH_TEXT_FEATURES = [feature for feature in RICH_TEXT_FEATURES if feature not in {"h2", "document-link"}]


class EmailRichTextBlock(RichTextBlock):
    """Paragraphs, lists and links (absolute in the email): the portal's text block with the email's features."""

    default_features = EMAIL_RICH_TEXT_FEATURES

    class Meta:
        template = "email/blocks/rich_text.html"
        preview_value = "<p>This month the network welcomed two new hotlines and published new guidance.</p>"


class FeaturedPageBlock(blocks.StructBlock):
    """A card for one portal page: title, summary and a button to read it on the site."""

    page = blocks.PageChooserBlock()
    summary = blocks.TextBlock(required=False, help_text="Defaults to the page's own summary.")
    button_label = blocks.CharBlock(max_length=40, default="Read on the portal")

    class Meta:
        template = "email/blocks/featured_page.html"
        icon = "doc-full-inverse"
        label = "Featured page"
        description = "A card linking to a page of the portal."


class LatestFromTopicBlock(blocks.StructBlock):
    """The newest pages on a topic that the whole audience may read, chosen when the issue is sent."""

    topic = SnippetChooserBlock("core.Topic")
    heading = blocks.CharBlock(max_length=120, required=False, help_text="Defaults to 'Latest on <topic>'.")
    count = blocks.IntegerBlock(min_value=1, max_value=10, default=3)

    class Meta:
        template = "email/blocks/latest_from_topic.html"
        icon = "list-ul"
        label = "Latest from a topic"
        description = "An automatic list of the newest pages on a topic (only pages the audience may read)."

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        pages = _audience_pages(value, parent_context or {})
        # And, at render time, only what the viewers of this render may open (the visitor of an archive page).
        context["pages"] = list(filter(privacy.viewable_now, pages))
        return context


def _audience_pages(value, parent_context: dict) -> list:
    """The block's newest pages on its topic that the issue's audience may read, in the issue's language."""
    viewers = parent_context.get("newsletter_viewers")
    if not viewers:
        return []
    issue = parent_context.get("issue")
    language = issue_language(issue) if issue is not None else None
    return latest_pages_for_topic(value["topic"], value["count"], viewers, language=language)


class StatisticsHighlightBlock(blocks.StructBlock):
    """Headline figures or a small bar chart from a statistics dataset, as email-safe tables."""

    dataset = SnippetChooserBlock("stats.Dataset")
    style = blocks.ChoiceBlock(choices=[("kpis", "Headline figures"), ("bars", "Bar chart by country")],
                               default="kpis")
    measure = blocks.CharBlock(max_length=40, default="items_removed", help_text="Measure code for the bar chart.")
    period = blocks.CharBlock(max_length=10, required=False, help_text="e.g. 2014; empty for the latest period.")

    class Meta:
        template = "email/blocks/statistics_highlight.html"
        icon = "table"
        label = "Statistics highlight"
        description = "Figures from a statistics dataset the audience may read."

    def get_context(self, value, parent_context=None):
        from django.utils.safestring import mark_safe

        context = super().get_context(value, parent_context=parent_context)
        viewers = (parent_context or {}).get("newsletter_viewers")
        # The first viewer only: the gate already refused datasets some audience viewer may not read.
        html = _statistics_html(value, viewers[0]) if viewers else ""
        context["statistics_html"] = mark_safe(html)  # noqa: S308 - built from escaped parts
        return context


def _statistics_html(value, viewer) -> str:
    """The block's figures as one viewer may read them: a bar chart by country or headline figures."""
    from portal.stats.services.email import render_email_dataset_bar_chart, render_email_dataset_kpis

    dataset, period = value["dataset"], value.get("period") or None
    if value["style"] == "bars":
        return render_email_dataset_bar_chart(dataset, viewer, measure=value["measure"], period=period)
    return render_email_dataset_kpis(dataset, viewer, period=period)


class CallToActionBlock(blocks.StructBlock):
    """A short message with one button, to a portal page or an external address."""

    text = blocks.TextBlock()
    button_label = blocks.CharBlock(max_length=40)
    page = blocks.PageChooserBlock(required=False)
    url = blocks.URLBlock(required=False, help_text="Used when no page is chosen.")

    class Meta:
        template = "email/blocks/call_to_action.html"
        icon = "link-external"
        label = "Call to action"
        description = "A message with one button."
        preview_value = {"text": "Does your hotline have a practice to share?", "button_label": "Write to us",
                         "url": "https://example.org/contact/"}


def latest_pages_for_topic(topic, count: int, viewers, language: str | None = None) -> list:
    """The newest articles and conference notes on a topic that every audience viewer may read.

    One version of each page: the one in ``language`` (the issue's), else the original.
    """
    from wagtail.models import Page

    from newsletter.services.languages import one_version_each
    from portal.pages.models import ArticlePage, ConferenceNotesPage

    if topic is None:
        return []
    on_topic = {"topics__translation_key": topic.translation_key}
    ids = [*ArticlePage.objects.filter(**on_topic).values_list("id", flat=True),
           *ConferenceNotesPage.objects.filter(**on_topic).values_list("id", flat=True)]
    chosen = one_version_each(pages_for_audience(Page.objects.filter(id__in=ids), viewers), language)[:count]
    by_id = {page.pk: page for page in Page.objects.filter(id__in=chosen).specific()}
    return [by_id[page_id] for page_id in chosen if page_id in by_id]


class NewsletterBodyBlock(blocks.StreamBlock):
    """The body of a newsletter issue."""

    text = EmailRichTextBlock()
    featured_page = FeaturedPageBlock()
    latest_from_topic = LatestFromTopicBlock()
    statistics = StatisticsHighlightBlock()
    call_to_action = CallToActionBlock()


def pages_for_audience(queryset, viewers: list[privacy.Viewer]):
    """Narrow a page queryset to live pages every viewer may read (for automatic lists)."""
    for viewer in viewers:
        queryset = privacy.visible_pages(queryset, viewer)
    return queryset.live()
