from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "portal.stats"
    label = "stats"
    verbose_name = "Network statistics"

    def ready(self):
        from portal.core.generation import watch
        from portal.stats.models import Dataset, Measure, Observation, PeriodNote

        # Statistics pages, charts and the API show these (portal.core.generation: what empties the page cache).
        for model in (Dataset, Measure, Observation, PeriodNote):
            watch(model)
