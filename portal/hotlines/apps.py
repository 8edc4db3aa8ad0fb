from django.apps import AppConfig


class HotlinesConfig(AppConfig):
    name = "portal.hotlines"
    label = "hotlines"
    verbose_name = "Hotline directory"

    def ready(self):
        from portal.core.generation import watch
        from portal.hotlines.models import Hotline, HotlineDirectoryPage
        from portal.hotlines.services import directory_for_request

        # The directory page shows hotlines (portal.core.generation: what empties the page cache).
        watch(Hotline)
        HotlineDirectoryPage.directory_for_request = staticmethod(directory_for_request)
