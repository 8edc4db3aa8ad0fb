"""One rule for every CSV the portal writes: cells a spreadsheet would run as a formula are neutralised.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula (``=HYPERLINK(...)`` leaks data or tricks whoever opens the file), so it gets a
leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection). Plain numbers, negative
ones included, are left alone so statistics stay numbers. Used by the statistics downloads and the subscriber
export; any new CSV must go through ``safe_cell`` or ``safe_row``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value) -> str:
    """The text of ``value`` as a CSV cell no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def safe_row(row: Iterable) -> list[str]:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(value) for value in row]
