"""A dataset's observations loaded once, with the lookups charts need (network and country totals).

``load_dataset_data`` runs two queries (observations and measures) whatever the dataset's size; every
chart block on a page then reads from the same in-memory object.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django_countries import countries

from portal.stats.models.datasets import Dataset, Measure, Observation, PeriodNote, period_label
from portal.stats.services.kpis import sum_figures


@dataclass(frozen=True)
class Obs:
    """One observation as plain data."""

    period_key: int
    year: int
    quarter: int | None
    country: str
    organisation: str
    values: dict

    @property
    def period(self) -> str:
        return period_label(self.year, self.quarter)


@dataclass
class DatasetData:
    """All the figures of one dataset, indexed for charts."""

    dataset: Dataset
    observations: list[Obs]
    measures: dict[str, Measure] = field(default_factory=dict)

    @cached_property
    def periods(self) -> list[tuple[int, str]]:
        """(period_key, label) of every period with figures, oldest first."""
        seen = {obs.period_key: obs.period for obs in self.observations}
        return sorted(seen.items())

    def periods_of(self, granularity: str = "year") -> list[tuple[int, str]]:
        """Only yearly or only quarterly periods."""
        quarterly = granularity == "quarter"
        return [(key, label) for key, label in self.periods if bool(key % 10) == quarterly]

    @cached_property
    def countries(self) -> list[str]:
        """ISO codes of the countries with figures, sorted by country name."""
        codes = {obs.country for obs in self.observations if obs.country}
        return sorted(codes, key=lambda code: countries.name(code) or code)

    @cached_property
    def _index(self) -> dict[tuple[int, str], dict[str, list[Obs]]]:
        index: dict[tuple[int, str], dict[str, list[Obs]]] = defaultdict(lambda: defaultdict(list))
        for obs in self.observations:
            index[(obs.period_key, obs.country)][obs.organisation].append(obs)
        return index

    def country_values(self, country: str, key: int) -> dict[str, int]:
        """A country's figures for a period: its own row, or the sum of its organisations' rows."""
        by_org = self._index.get((key, country), {})
        if "" in by_org:
            return dict(by_org[""][0].values)
        return _sum_organisations(by_org)

    def network_values(self, key: int) -> dict[str, int]:
        """Network-wide figures for a period: the explicit network row if the file has one, else the sum of
        the country figures (never both, so nothing is counted twice), else the sum of the network-wide rows of
        single organisations."""
        by_org = self._index.get((key, ""), {})
        if "" in by_org:
            return dict(by_org[""][0].values)
        country_rows = [self.country_values(code, key) for code in self.countries]
        return sum_figures(country_rows) if any(country_rows) else _sum_organisations(by_org)

    def values_for(self, country: str, key: int) -> dict[str, int]:
        """Figures for a country ("" = network) in a period."""
        return self.country_values(country, key) if country else self.network_values(key)

    def latest_period(self, granularity: str = "year") -> tuple[int, str] | None:
        periods = self.periods_of(granularity) or self.periods
        return periods[-1] if periods else None

    def previous_period(self, key: int) -> tuple[int, str] | None:
        """The same period one year earlier (2014 → 2013, 2014-Q2 → 2013-Q2), if it has figures."""
        wanted = key - 10
        return next(((k, label) for k, label in self.periods if k == wanted), None)

    def find_period(self, label: str) -> tuple[int, str] | None:
        return next(((k, lab) for k, lab in self.periods if lab == label.strip()), None)

    def chosen_period(self, label: str | None) -> tuple[int, str] | None:
        """The period an editor named (e.g. "2014"), or the latest year when the name is blank."""
        return self.find_period(label) if label else self.latest_period()

    @cached_property
    def notes(self) -> dict[str, PeriodNote]:
        """What readers should know about a period (coverage, changes after release), by period label; one
        query, the first time a chart asks."""
        notes = PeriodNote.objects.filter(dataset=self.dataset).exclude(coverage="", correction="")
        return {note.period: note for note in notes}

    def notes_for(self, periods: Iterable[str]) -> list[PeriodNote]:
        """The notes of these periods, oldest period first."""
        wanted = set(periods)
        return sorted((note for label, note in self.notes.items() if label in wanted), key=lambda n: n.period_key)

    def measure_label(self, code: str) -> str:
        measure = self.measures.get(code)
        return measure.label if measure else code.replace("_", " ").capitalize()


def _sum_organisations(by_org: dict[str, list[Obs]]) -> dict[str, int]:
    return sum_figures(obs.values for rows in by_org.values() for obs in rows)


def load_dataset_data(dataset: Dataset) -> DatasetData:
    """Load every observation of a dataset (one query) and the measures (one query)."""
    rows = Observation.objects.filter(dataset=dataset).order_by("period_key", "country", "organisation")
    observations = [
        Obs(*row) for row in rows.values_list("period_key", "year", "quarter", "country", "organisation", "values")
    ]
    measures = {measure.code: measure for measure in Measure.objects.all()}
    return DatasetData(dataset=dataset, observations=observations, measures=measures)
