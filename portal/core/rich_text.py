"""Rich-text links asked at render time: a page or document link the current viewer may not open is rendered as
plain text (an ``<a>`` without ``href``), so a public page never reveals a restricted page's slug or a restricted
document's URL and file name. The viewer is the render scope's (``portal.core.privacy.render_viewers``): the
visitor on the site, every audience viewer in an email.
"""

from __future__ import annotations

from django.utils.html import escape

from wagtail.documents.rich_text import DocumentLinkHandler
from wagtail.rich_text.pages import PageLinkHandler

from portal.core import privacy


class GatedPageLinkHandler(PageLinkHandler):
    """Wagtail's page link, only for viewers who may open the page."""

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        return [
            f'<a href="{escape(page.localized.url)}">' if privacy.viewable_now(page) else "<a>"
            for page in cls.get_many(attrs_list)
        ]


class GatedDocumentLinkHandler(DocumentLinkHandler):
    """Wagtail's document link, only for viewers who may open the document."""

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        return [
            f'<a href="{escape(document.url)}">'
            if privacy.document_viewable_now(document) else "<a>"
            for document in cls.get_many(attrs_list)
        ]


def register_link_types(features) -> None:
    """``register_rich_text_features`` hook (registered after Wagtail's own, which these replace)."""
    features.register_link_type(GatedPageLinkHandler)
    features.register_link_type(GatedDocumentLinkHandler)
