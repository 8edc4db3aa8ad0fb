"""The shared StreamField block library. Every page body is built from these blocks.

Each block names its template under ``templates/components/blocks/``, an icon, a description and a
preview value so editors see a live preview in the block picker.
"""

from django.utils.module_loading import import_string

from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock as WagtailTableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock as WagtailEmbedBlock
from wagtail.images.blocks import ImageChooserBlock

from portal.core.conf import conf

RICH_TEXT_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link", "blockquote"]


class HeadingBlock(blocks.StructBlock):
    """A section heading; the level keeps the document outline correct for screen readers."""

    text = blocks.CharBlock(max_length=200)
    level = blocks.ChoiceBlock(choices=[("h2", "Level 2"), ("h3", "Level 3"), ("h4", "Level 4")], default="h2")

    class Meta:
        template = "components/blocks/heading.html"
        icon = "title"
        label = "Heading"
        description = "A section heading that appears in the page outline."
        preview_value = {"text": "What works against online abuse material", "level": "h2"}


class RichTextBlock(blocks.RichTextBlock):
    """Paragraphs with links, lists and emphasis."""

    default_features = RICH_TEXT_FEATURES

    def __init__(self, **kwargs):
        kwargs.setdefault("features", self.default_features)
        super().__init__(**kwargs)

    class Meta:
        template = "components/blocks/rich_text.html"
        icon = "pilcrow"
        label = "Text"
        description = "Paragraphs of text with links and lists."
        preview_value = (
            "<p>Hotlines assess public reports of online child sexual abuse material and work with "
            "industry and police so that it is <b>removed quickly</b>.</p>"
        )


class ImageBlock(blocks.StructBlock):
    """An image with required alternative text and an optional caption."""

    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=250,
        required=False,
        help_text="Describe the image for people who cannot see it. Leave empty only for decorative images.",
    )
    decorative = blocks.BooleanBlock(required=False, help_text="Purely decorative: screen readers skip it.")
    caption = blocks.CharBlock(max_length=300, required=False)

    class Meta:
        template = "components/blocks/image.html"
        icon = "image"
        label = "Image"
        description = "An image with alternative text and a caption."

    def clean(self, value):
        from django.core.exceptions import ValidationError

        from wagtail.blocks.struct_block import StructBlockValidationError

        cleaned = super().clean(value)
        if not cleaned.get("alt_text") and not cleaned.get("decorative"):
            raise StructBlockValidationError(
                block_errors={
                    "alt_text": ValidationError("Give alternative text, or mark the image as decorative.")
                }
            )
        return cleaned


class QuoteBlock(blocks.StructBlock):
    """A pull quote with its attribution."""

    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(max_length=200, required=False)
    role = blocks.CharBlock(max_length=200, required=False, help_text="e.g. Hotline analyst, INHOPE member")

    class Meta:
        template = "components/blocks/quote.html"
        icon = "openquote"
        label = "Quote"
        description = "A quotation with who said it."
        preview_value = {
            "quote": "Every report we remove is a child who is not re-victimised by another view.",
            "attribution": "Hotline manager",
            "role": "Member hotline",
        }


class KeyFactBlock(blocks.StructBlock):
    """A highlighted figure or message that readers should not miss."""

    figure = blocks.CharBlock(max_length=40, required=False, help_text="e.g. 91%")
    title = blocks.CharBlock(max_length=200)
    text = blocks.TextBlock(required=False)
    source = blocks.CharBlock(max_length=250, required=False)
    tone = blocks.ChoiceBlock(
        choices=[("info", "Information"), ("highlight", "Highlight"), ("warning", "Warning")],
        default="info",
    )

    class Meta:
        template = "components/blocks/key_fact.html"
        icon = "pick"
        label = "Key fact / callout"
        description = "A highlighted figure or message in a box."
        preview_value = {
            "figure": "91%",
            "title": "of reported illegal content removed within three days",
            "text": "Hotlines achieved this in 2014 by working directly with hosting providers.",
            "source": "Network statistics, 2014",
            "tone": "highlight",
        }


class DocumentLinkBlock(blocks.StructBlock):
    """A link to a document, served through Wagtail so privacy rules apply."""

    document = DocumentChooserBlock()
    title = blocks.CharBlock(max_length=200, required=False, help_text="Defaults to the document's title.")
    description = blocks.TextBlock(required=False)

    class Meta:
        template = "components/blocks/document_link.html"
        icon = "doc-full"
        label = "Document link"
        description = "A downloadable document with its type and size."


class EmbedBlock(blocks.StructBlock):
    """An embedded video or post from an oEmbed provider, with a text alternative."""

    embed = WagtailEmbedBlock(help_text="URL of a video or post, e.g. a recorded conference talk.")
    title = blocks.CharBlock(max_length=200, help_text="Describes the embedded content for assistive technology.")
    transcript = blocks.TextBlock(required=False)

    class Meta:
        template = "components/blocks/embed.html"
        icon = "media"
        label = "Embed"
        description = "An embedded video or post with a title and optional transcript."


class TableBlock(blocks.StructBlock):
    """A data table with a caption (captions label tables for screen readers)."""

    caption = blocks.CharBlock(max_length=200)
    table = WagtailTableBlock(table_options={"startRows": 3, "startCols": 3})

    class Meta:
        template = "components/blocks/table.html"
        icon = "table"
        label = "Table"
        description = "A table with a caption and an optional header row."
        preview_value = {
            "caption": "Reports processed by member hotlines",
            "table": {
                "first_row_is_table_header": True,
                "first_col_is_header": False,
                "data": [["Year", "Reports", "Removed within 3 days"], ["2013", "54,969", "83%"],
                         ["2014", "89,758", "91%"]],
            },
        }


class SessionBlock(blocks.StructBlock):
    """One conference session: who spoke, what was said and what to take away."""

    title = blocks.CharBlock(max_length=250)
    speakers = blocks.ListBlock(blocks.CharBlock(max_length=200, label="Speaker"), default=[])
    summary = RichTextBlock()
    takeaways = blocks.ListBlock(blocks.CharBlock(max_length=300, label="Takeaway"), default=[])

    class Meta:
        template = "components/blocks/session.html"
        icon = "group"
        label = "Session"
        description = "A conference session with speakers, summary and takeaways."
        preview_value = {
            "title": "Reaching people at risk of offending before abuse happens",
            "speakers": ["Prevention programme lead"],
            "summary": "<p>Ten years of a confidential help line for people worried about their sexual "
                       "interest in children.</p>",
            "takeaways": ["Prevention works best with anonymous, non-judgemental help."],
        }


class HeadlineStatBlock(blocks.StructBlock):
    """A headline number for the home page's statistics row."""

    value = blocks.CharBlock(max_length=30, help_text="e.g. 91%")
    label = blocks.CharBlock(max_length=200)
    source = blocks.CharBlock(max_length=200, required=False)

    class Meta:
        template = "components/blocks/headline_stat.html"
        icon = "order"
        label = "Headline statistic"
        description = "A single headline figure with its label and source."
        preview_value = {"value": "91%", "label": "of reported illegal content removed within three days",
                         "source": "2014"}


class RelatedPageBlock(blocks.StructBlock):
    """A link to another page of the portal, rendered as a card (only if the viewer may see it)."""

    page = blocks.PageChooserBlock()
    title = blocks.CharBlock(max_length=200, required=False, help_text="Defaults to the page's title.")

    class Meta:
        template = "components/blocks/related_page.html"
        icon = "link"
        label = "Related page"


class CommonContentBlock(blocks.StreamBlock):
    """The body of every content page: one shared list of blocks."""

    heading = HeadingBlock()
    paragraph = RichTextBlock()
    image = ImageBlock()
    quote = QuoteBlock()
    key_fact = KeyFactBlock()
    document = DocumentLinkBlock()
    embed = EmbedBlock()
    table = TableBlock()
    related_page = RelatedPageBlock()

    class Meta:
        template = "components/blocks/stream.html"


def add_contributed_blocks(stream_block_class: type[blocks.StreamBlock]) -> None:
    """Append the blocks feature apps contribute to every content page (``PORTAL_CONTENT_BLOCKS``: name and
    dotted path of the block class, in the settings), so this library names no feature app."""
    for name, path in conf.PORTAL_CONTENT_BLOCKS:
        block = import_string(path)()
        block.set_name(name)
        stream_block_class.base_blocks[name] = block


add_contributed_blocks(CommonContentBlock)
