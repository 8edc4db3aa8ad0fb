from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    name = "portal.contributions"
    label = "contributions"
    verbose_name = "Member contributions"
