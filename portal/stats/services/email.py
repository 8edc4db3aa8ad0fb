"""Statistics as email-safe HTML for newsletter issues: tables and inline styles only, no SVG, no JS, no classes.

``render_email_kpi`` and ``render_email_bar_chart`` take plain values; ``render_email_dataset_kpis`` and
``render_email_dataset_bar_chart`` read a dataset but only for an audience allowed to read it (the same
``Dataset.is_visible_to`` check as the page and API), and return "" otherwise.
"""

from __future__ import annotations

from django.utils.html import escape

from django_countries import countries

from portal.stats.services import tables
from portal.stats.services.data import DatasetData, load_dataset_data
from portal.stats.services.kpis import format_count, format_percent, share_removed_within_three_days

FONT = "font-family:Arial,Helvetica,sans-serif;"
INK, ACCENT, MUTED = "#0b2545", "#1b7f79", "#4a5568"


def _source_row(source: str, cell_attributes: str) -> str:
    return f"<tr><td {cell_attributes}>Source: {escape(source)}</td></tr>" if source else ""


SHARE_DEFINITION = tables.SHARE_DEFINITION.description


def definition_text(measure) -> str:
    """A measure's definition and caveat in one line, for readers of an email ("" when it has neither)."""
    if measure is None:
        return ""
    caveat = getattr(measure, "caveat", "")
    return " ".join(part for part in (measure.description, f"Not: {caveat}" if caveat else "") if part)


def _definition_row(definition: str, cell_attributes: str) -> str:
    return f"<tr><td {cell_attributes}>{escape(definition)}</td></tr>" if definition else ""


def render_email_kpi(value: str, label: str, source: str = "", definition: str = "") -> str:
    """One headline figure (e.g. "91%", "of removed content taken down within three days") as a table, with
    what it counts (``definition``) under it."""
    source_row = _definition_row(definition, f'style="{FONT}font-size:13px;line-height:18px;color:{MUTED};'
                                             'padding:0 16px 4px 16px;"')
    source_row += _source_row(source, f'style="{FONT}font-size:12px;color:{MUTED};padding:4px 16px 12px 16px;"')
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="border-collapse:collapse;border-left:4px solid {ACCENT};background:#f4f7fa;margin:0 0 16px 0;">'
        f'<tr><td style="{FONT}font-size:32px;line-height:38px;font-weight:bold;color:{INK};padding:12px 16px 0 16px;">'
        f"{escape(value)}</td></tr>"
        f'<tr><td style="{FONT}font-size:15px;line-height:21px;color:{INK};padding:4px 16px 8px 16px;">'
        f"{escape(label)}</td></tr>"
        f"{source_row}</table>"
    )


def render_email_bar_chart(
    title: str, bars: list[tuple[str, float | int | None]], *, percent: bool = False, source: str = "",
    width: int = 360,
    definition: str = "",
) -> str:
    """A small horizontal bar chart drawn with table cells: a row per (label, value), the value written out.

    Missing values are written "n/a" with no bar. ``percent`` means values are shares between 0 and 1.
    """
    top = _bar_scale(bars, percent)
    rows = "".join(_email_bar_row(label, value, round(width * (value or 0) / top), percent) for label, value in bars)
    source_row = _definition_row(definition, f'colspan="3" style="{FONT}font-size:13px;color:{MUTED};padding-top:8px;"')
    source_row += _source_row(source, f'colspan="3" style="{FONT}font-size:12px;color:{MUTED};padding-top:8px;"')
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="border-collapse:collapse;margin:0 0 16px 0;">'
        f'<tr><td colspan="3" style="{FONT}font-size:16px;font-weight:bold;color:{INK};padding-bottom:8px;">'
        f"{escape(title)}</td></tr>{rows}{source_row}</table>"
    )


def _bar_scale(bars: list[tuple[str, float | int | None]], percent: bool) -> float:
    """The value a full-width bar stands for: the largest value (and at least 100% for shares)."""
    top = max((value for _label, value in bars if value is not None), default=0) or 1
    return max(top, 1) if percent else top


def _email_bar_row(label: str, value: float | int | None, length: int, percent: bool) -> str:
    """The label, a bar ``length`` pixels long (none for a missing or zero value), and the value written out."""
    shown = "n/a" if value is None else format_percent(value) if percent else format_count(value)
    bar = (
        f'<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">'
        f'<tr><td width="{length}" height="14" style="width:{length}px;height:14px;background:{ACCENT};'
        f'font-size:1px;line-height:1px;">&nbsp;</td></tr></table>'
        if value
        else ""
    )
    return (
        f'<tr><td style="{FONT}font-size:13px;color:{INK};padding:4px 8px 4px 0;white-space:nowrap;">'
        f"{escape(label)}</td>"
        f'<td style="padding:4px 8px 4px 0;">{bar}</td>'
        f'<td style="{FONT}font-size:13px;color:{INK};padding:4px 0;text-align:right;white-space:nowrap;">'
        f"{escape(shown)}</td></tr>"
    )


def _readable_period(dataset, viewer, period: str | None) -> tuple[DatasetData, tuple[int, str]] | None:
    """The dataset's figures and the period asked for (the latest when blank), if the audience may read them."""
    if not dataset.is_visible_to(viewer):
        return None
    data = load_dataset_data(dataset)
    found = data.chosen_period(period)
    return (data, found) if found else None


def _source(data: DatasetData, label: str, with_period: bool = True) -> str:
    """The dataset (and period), then where the period's figures come from and what changed after release."""
    source = f"{data.dataset.title}, {label}" if with_period else data.dataset.title
    notes = data.notes_for([label])
    return f"{source}. {tables.note_text(notes[0])}" if notes else source


def render_email_dataset_kpis(dataset, viewer, period: str | None = None) -> str:
    """The network's share removed within three days and its reports received, as email KPIs.

    ``viewer`` is the audience (a Viewer from the privacy gate); "" if it may not read the dataset.
    """
    readable = _readable_period(dataset, viewer, period)
    if readable is None:
        return ""
    data, (key, label) = readable
    values = data.network_values(key)
    source = _source(data, label)
    parts = [
        render_email_kpi(format_percent(share_removed_within_three_days(values)),
                         "of removed illegal content was taken down within three days", source, SHARE_DEFINITION),
    ]
    if values.get("reports_received") is not None:
        parts.append(render_email_kpi(format_count(values["reports_received"]), "reports received by hotlines", source,
                                      definition_text(data.measures.get("reports_received"))))
    return "".join(parts)


def render_email_dataset_bar_chart(dataset, viewer, measure: str = "items_removed", period: str | None = None) -> str:
    """One measure per country for a period, as an email bar chart; "" if the audience may not read it."""
    readable = _readable_period(dataset, viewer, period)
    if readable is None:
        return ""
    data, (key, label) = readable
    bars = [(countries.name(code), data.country_values(code, key).get(measure)) for code in data.countries]
    return render_email_bar_chart(f"{data.measure_label(measure)} by country, {label}", bars,
                                  source=_source(data, label, with_period=False),
                                  definition=definition_text(data.measures.get(measure)))
