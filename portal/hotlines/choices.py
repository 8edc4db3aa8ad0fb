"""The fixed vocabularies of the hotline directory: what a hotline accepts and the languages it works in."""

from __future__ import annotations

from django.conf import global_settings
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

# What a reporter may want to report; the codes appear in URLs (?accepts=grooming) and in the API.
CATEGORIES = [
    ("csam", _("Child sexual abuse material")),
    ("grooming", _("Online grooming")),
    ("sextortion", _("Sextortion")),
    ("ai-generated", _("AI-generated abuse material")),
    ("other-illegal", _("Other illegal content")),
]
CATEGORY_CODES = [code for code, _label in CATEGORIES]
CATEGORY_LABELS = dict(CATEGORIES)

# Any language Django knows by a plain ISO 639-1 code (a hotline may take reports in Arabic or Ukrainian).
LANGUAGE_CODES = sorted({code for code, _name in global_settings.LANGUAGES if "-" not in code})


def language_name(code: str) -> str:
    """The language's name in the reader's language, capitalised ("Français" → "French" in English)."""
    try:
        return capfirst(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def language_choices() -> list[tuple[str, str]]:
    """(code, name) pairs for forms, by name in the reader's language."""
    return sorted(((code, language_name(code)) for code in LANGUAGE_CODES), key=lambda pair: pair[1])


def _refuse_unknown(codes, known: list[str], what: str) -> None:
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError(f"{what}: {', '.join(map(str, unknown))}.")


def validate_language_codes(codes) -> None:
    """Every code is one of the directory's languages (``LANGUAGE_CODES``)."""
    _refuse_unknown(codes, LANGUAGE_CODES, "Unknown language codes")


def validate_categories(codes) -> None:
    """Every code is one of the directory's categories (``CATEGORY_CODES``)."""
    _refuse_unknown(codes, CATEGORY_CODES, "Unknown categories")
