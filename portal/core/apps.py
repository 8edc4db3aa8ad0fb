from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = "Portal core"

    def ready(self):
        from portal.core import i18n

        i18n.connect_signals()

        from portal.core import generation
        from portal.core.models import Sector, Topic

        # What moves the content generation the page cache, fragments and memos belong to.
        generation.connect_signals()
        generation.watch_wagtail_models()
        generation.watch(Topic)
        generation.watch(Sector)

        from portal.core import copies

        copies.install()

        from portal.core import mail

        mail.use_message_id_domain()
