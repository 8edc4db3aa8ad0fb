"""What the directory shows: the hotlines for a country (or the recommended fallback), filtered by what the
visitor wants to report and the language they want to report in. Used by the page and the API alike.

The directory is small (one row per hotline), so it is read in one query and filtered in Python: any filter
costs the same single query, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import trans_real

from django_countries import countries
from django_countries.fields import Country

from portal.hotlines.choices import language_name
from portal.hotlines.forms import DirectoryFilterForm
from portal.hotlines.models import Hotline

# The country a browser language without a region most likely means (``fr`` alone → France). English,
# Spanish, Portuguese and the like are spoken in too many countries to guess: no pre-selection for them.
LANGUAGE_HOME_COUNTRY = {
    "bg": "BG", "cs": "CZ", "da": "DK", "de": "DE", "el": "GR", "et": "EE", "fi": "FI", "fr": "FR",
    "hr": "HR", "hu": "HU", "is": "IS", "it": "IT", "lt": "LT", "lv": "LV", "nl": "NL", "pl": "PL",
    "ro": "RO", "sk": "SK", "sl": "SI", "sv": "SE", "uk": "UA", "nb": "NO", "no": "NO",
}

# The first two-letter subtag after the language (``fr-BE``, ``zh-Hant-TW``, ``de_AT``): the region.
REGION_RE = re.compile(r"[-_]([A-Za-z]{2})(?=[-_]|$)")


@dataclass
class CountryEntry:
    """A country in the directory's list and on its map."""

    code: str
    name: str
    hotline_count: int


@dataclass
class Directory:
    """Everything the directory page renders for one request."""

    form: DirectoryFilterForm
    countries: list[CountryEntry]
    country: Country | None = None
    preselected: bool = False  # the country came from the browser's Accept-Language
    varies_on_language: bool = False  # the answer depends on Accept-Language (no country in the URL)
    hotlines: list[Hotline] = field(default_factory=list)
    filters_matched: bool = True  # False: none of the country's hotlines matches; all of them are shown
    is_fallback: bool = False  # the country has no hotline: ``hotlines`` are the recommended channels
    groups: list[tuple[CountryEntry, list[Hotline]]] = field(default_factory=list)  # no country chosen

    @property
    def form_errors(self) -> bool:
        return bool(self.form.errors)

    @property
    def accepts(self) -> str:
        return getattr(self.form, "cleaned_data", {}).get("accepts", "")

    @property
    def language(self) -> str:
        return getattr(self.form, "cleaned_data", {}).get("language", "")


def active_hotlines() -> list[Hotline]:
    """Every active hotline (one query)."""
    return list(Hotline.objects.active())


def matches(hotline: Hotline, accepts: str = "", language: str = "") -> bool:
    """Whether the hotline takes reports of that kind (any, if empty) in that language (any, if empty)."""
    return (not accepts or accepts in hotline.accepts) and (not language or language in hotline.languages)


def served_by(hotlines: list[Hotline], code: str) -> list[Hotline]:
    return [hotline for hotline in hotlines if code in hotline.country_codes]


def fallback_for(hotlines: list[Hotline], code: str) -> list[Hotline]:
    """The channels recommended for a country with no hotline: a named neighbour, else the international ones."""
    neighbours = [hotline for hotline in hotlines if code in hotline.fallback_for]
    return neighbours or [hotline for hotline in hotlines if hotline.international]


def candidates_for(hotlines: list[Hotline], code: str) -> tuple[list[Hotline], bool]:
    """(the country's own hotlines, or the recommended fallback when it has none; whether it is the fallback)."""
    own = served_by(hotlines, code)
    return own or fallback_for(hotlines, code), not own


def country_entries(hotlines: list[Hotline]) -> list[CountryEntry]:
    """Countries with at least one active hotline, by name in the reader's language."""
    counts: dict[str, int] = {}
    for hotline in hotlines:
        for code in hotline.country_codes:
            counts[code] = counts.get(code, 0) + 1
    entries = [CountryEntry(code, countries.name(code), count) for code, count in counts.items()]
    return sorted(entries, key=lambda entry: entry.name)


def hotlines_for_country(hotlines: list[Hotline], code: str, accepts: str = "", language: str = ""):
    """(hotlines to show, whether they match the filters, whether they are the fallback) for one country."""
    candidates, is_fallback = candidates_for(hotlines, code)
    matching = [hotline for hotline in candidates if matches(hotline, accepts, language)]
    if matching or not candidates:
        return matching, True, is_fallback
    return candidates, False, is_fallback


def _region(tag: str) -> str | None:
    """The country a language tag names as its region (``fr-BE`` → BE), if it is a known one."""
    match = REGION_RE.search(tag)
    region = match.group(1).upper() if match else ""
    return region if region in dict(countries) else None


def _home_country(tag: str) -> str | None:
    """The country a language most likely means (``fr`` → FR), if it has an obvious one."""
    return LANGUAGE_HOME_COUNTRY.get(tag.split("-")[0].lower())


def preferred_country(accept_language: str) -> str | None:
    """The country the browser's languages point at: the region of the first tag that has one (``fr-BE`` →
    BE), else the home country of the first language that has an obvious one. Never an IP lookup."""
    tags = [tag for tag, _quality in trans_real.parse_accept_lang_header(accept_language or "")]
    guesses = [*map(_region, tags), *map(_home_country, tags)]
    return next((country for country in guesses if country), None)


def _filter_data(request) -> tuple[dict, str]:
    """The directory form's data: the query string, with the country the browser's languages point at when the
    query string names none; and that preselected country ("" if none)."""
    data = request.GET.copy()
    if "country" in request.GET:
        return data, ""
    preselected = preferred_country(request.META.get("HTTP_ACCEPT_LANGUAGE", "")) or ""
    if preselected:
        data["country"] = preselected
    return data, preselected


def _groups(hotlines: list[Hotline], entries: list[CountryEntry], accepts: str, language: str):
    """Every country with the hotlines that match the filters (countries without any left out)."""
    groups = []
    for entry in entries:
        shown = [hotline for hotline in served_by(hotlines, entry.code) if matches(hotline, accepts, language)]
        if shown:
            groups.append((entry, shown))
    return groups


def directory_for_request(request) -> Directory:
    """The directory as the request's query string (and, without a country, its Accept-Language) asks."""
    hotlines = active_hotlines()
    languages = sorted({code for hotline in hotlines for code in hotline.languages}, key=language_name)
    data, preselected = _filter_data(request)
    form = DirectoryFilterForm(data, languages=languages)
    directory = Directory(form=form, countries=country_entries(hotlines),
                          preselected=bool(preselected), varies_on_language="country" not in request.GET)
    form.is_valid()  # a field that does not validate is reported and ignored; the others still apply
    code = form.cleaned_data.get("country", "")
    accepts, language = directory.accepts, directory.language
    if not code:
        directory.groups = _groups(hotlines, directory.countries, accepts, language)
        return directory
    directory.country = Country(code)
    directory.hotlines, directory.filters_matched, directory.is_fallback = hotlines_for_country(
        hotlines, code, accepts, language)
    return directory
