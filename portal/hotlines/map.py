"""The directory's map: a tile grid drawn on the server as SVG, one square per country, from the same data as
the country list (which stays the primary control: the map adds nothing the list does not say).

A tile grid rather than country outlines: it needs no boundary data (none is shipped with any library we
use), every country gets a tile big enough to point at on a phone, and small countries stay visible.
Countries outside the grid (anywhere beyond Europe) are drawn on a row of their own below it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_countries import countries

# (column, row) of each European country, roughly where it lies.
GRID = {
    "IS": (0, 0), "NO": (4, 0), "SE": (5, 0), "FI": (6, 0),
    "IE": (0, 1), "GB": (1, 1), "DK": (4, 1), "EE": (6, 1),
    "NL": (2, 2), "DE": (3, 2), "PL": (4, 2), "LT": (5, 2), "LV": (6, 2), "RU": (7, 2),
    "FR": (1, 3), "BE": (2, 3), "LU": (3, 3), "CZ": (4, 3), "SK": (5, 3), "BY": (6, 3), "UA": (7, 3),
    "PT": (0, 4), "ES": (1, 4), "CH": (2, 4), "LI": (3, 4), "AT": (4, 4), "HU": (5, 4), "RO": (6, 4),
    "MD": (7, 4),
    "AD": (1, 5), "MC": (2, 5), "IT": (3, 5), "SI": (4, 5), "HR": (5, 5), "RS": (6, 5), "BG": (7, 5),
    "GE": (8, 5),
    "SM": (2, 6), "MT": (3, 6), "BA": (5, 6), "ME": (6, 6), "MK": (7, 6), "TR": (8, 6), "AM": (9, 6),
    "AL": (6, 7), "GR": (7, 7), "CY": (9, 7),
}
GRID_ROWS = 1 + max(row for _column, row in GRID.values())
TILE = 44
GAP = 4
COLUMNS = 10


@dataclass
class Tile:
    code: str
    name: str
    x: int
    y: int
    hotline_count: int
    selected: bool
    url: str

    @property
    def label(self) -> str:
        count = ngettext("%(count)d hotline", "%(count)d hotlines", self.hotline_count) % {
            "count": self.hotline_count}
        return f"{self.name}: {count}"


@dataclass
class Map:
    tiles: list[Tile]
    width: int
    height: int
    elsewhere_y: int | None  # where the row of countries outside the grid starts

    @property
    def description(self) -> str:
        served = sum(bool(tile.hotline_count) for tile in self.tiles)
        return _("Countries with a member hotline: %(count)d. Choose one to see where to report.") % {
            "count": served}


def _outside_tiles(outside, top: int, selected: str, url_for) -> list[Tile]:
    """Tiles for the countries outside the grid, in rows of ``COLUMNS`` from ``top`` down."""
    step = TILE + GAP
    return [Tile(entry.code, entry.name, index % COLUMNS * step, top + index // COLUMNS * step,
                 entry.hotline_count, entry.code == selected, url_for(entry.code))
            for index, entry in enumerate(outside)]


def directory_map(entries, selected: str = "", url_for=lambda code: f"?country={code}#results") -> Map:
    """The tile grid for the directory's countries (``CountryEntry`` list): every grid country, and the
    countries outside the grid that have a hotline. ``selected`` is outlined."""
    counts = {entry.code: entry.hotline_count for entry in entries}
    step = TILE + GAP
    tiles = [
        Tile(code, countries.name(code), column * step, row * step, counts.get(code, 0), code == selected,
             url_for(code))
        for code, (column, row) in GRID.items()
    ]
    height = GRID_ROWS * step
    outside = sorted((entry for entry in entries if entry.code not in GRID), key=lambda entry: entry.name)
    elsewhere_y = None
    if outside:
        elsewhere_y = height + 24
        tiles += _outside_tiles(outside, elsewhere_y, selected, url_for)
        height = elsewhere_y + ((len(outside) - 1) // COLUMNS + 1) * step
    return Map(tiles=tiles, width=COLUMNS * step - GAP, height=height - GAP, elsewhere_y=elsewhere_y)
