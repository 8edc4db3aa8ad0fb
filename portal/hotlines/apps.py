from django.apps import AppConfig


class HotlinesConfig(AppConfig):
    name = "portal.hotlines"
    label = "hotlines"
    verbose_name = "Hotline directory"

    def ready(self):
        from portal.core.generation import watch
        from portal.hotlines.models import Hotline

        # The directory page shows hotlines (portal.core.generation: what empties the page cache).
        watch(Hotline)
