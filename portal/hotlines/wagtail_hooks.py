"""Admin: hotlines as snippets (Wagtail logs every create, edit and delete with who did it: "History")."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal.hotlines.models import Hotline


class HotlineViewSet(SnippetViewSet):
    model = Hotline
    icon = "site"
    menu_label = "Hotlines"
    menu_order = 260
    add_to_admin_menu = True
    list_display = ["name", "countries", "active", "international", "updated_at"]
    list_filter = ["active", "international"]
    search_fields = ["name"]


register_snippet(HotlineViewSet)
