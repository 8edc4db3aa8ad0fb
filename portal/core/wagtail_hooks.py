"""Admin registration of the shared taxonomy."""

import re

from wagtail import hooks
from wagtail.models import Page
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from . import privacy
from .copies import CARRIED_ACTION
from .forms import reader_rules
from .models import Sector, Topic
from .rich_text import register_link_types
from .serving import gate_serving


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class SectorViewSet(SnippetViewSet):
    model = Sector
    icon = "group"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class TaxonomyGroup(SnippetViewSetGroup):
    items = (TopicViewSet, SectorViewSet)
    menu_icon = "tag"
    menu_label = "Taxonomy"
    menu_name = "taxonomy"


register_snippet(TaxonomyGroup)


# Serving asks the gate: the effective restriction covers language versions and alias sources too.
hooks.register("on_serve_page", gate_serving)


@hooks.register("register_log_actions")
def register_privacy_log_actions(actions):
    actions.register_action(
        CARRIED_ACTION, "Keep restriction on copy", "A copy kept a view restriction that applied to its source",
    )


# After Wagtail's own handlers (order 0), which these replace: links are checked for the viewer at render time.
hooks.register("register_rich_text_features", register_link_types, order=100)


_PAGE_IN_ADMIN_URL = re.compile(r"/admin/pages/(?:(?P<page>\d+)/edit/|add/\w+/\w+/(?P<parent>\d+)/)")


@hooks.register("construct_image_chooser_queryset")
def images_usable_on_the_page_being_edited(images, request):
    """The image chooser, opened from a page's editor, lists only images every reader of that page may open."""
    match = _PAGE_IN_ADMIN_URL.search(request.headers.get("Referer", ""))
    if match is None:
        return images
    page, parent = _page_or_none(match["page"]), _page_or_none(match["parent"])
    if page is None and parent is None:
        return images
    for path in privacy.unusable_collection_paths(reader_rules(page, parent)):
        images = images.exclude(collection__path__startswith=path)
    return images


def _page_or_none(pk: str | None) -> Page | None:
    return Page.objects.filter(pk=pk).first() if pk else None
