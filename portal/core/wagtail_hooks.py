"""Admin registration of the shared taxonomy."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .copies import CARRIED_ACTION
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
