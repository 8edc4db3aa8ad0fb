from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = "Portal core"

    def ready(self):
        from portal.core import i18n

        i18n.connect_signals()

        from portal.core import cache

        cache.connect_signals()
