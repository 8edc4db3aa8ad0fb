from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "portal.stats"
    label = "stats"
    verbose_name = "Network statistics"

    def ready(self):
        from portal.core.generation import watch
        from portal.core.privacy import register_group_source
        from portal.stats.models import Dataset, Measure, Observation, PeriodNote

        # Statistics pages, charts and the API show these (portal.core.generation: what empties the page cache).
        for model in (Dataset, Measure, Observation, PeriodNote):
            watch(model)
        # Datasets restricted to groups: members differing in those groups must not share rendered fragments.
        register_group_source(_dataset_group_ids)


def _dataset_group_ids():
    from portal.stats.models import Dataset

    return Dataset.groups.through.objects.values_list("group_id", flat=True).distinct()
