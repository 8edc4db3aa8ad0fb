from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "portal.members"
    label = "members"
    verbose_name = "Members"

    def ready(self):
        from . import signals, user_cache  # noqa: F401 - signals connects its receivers on import

        user_cache.connect_signals()
