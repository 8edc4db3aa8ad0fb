from django.apps import AppConfig


class HotlinesConfig(AppConfig):
    name = "portal.hotlines"
    label = "hotlines"
    verbose_name = "Hotline directory"
