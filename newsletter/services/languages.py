"""Automatic lists in an issue's language: one version of each page, the reader's where it exists.

A translated page is a separate page with the same ``translation_key`` (and, copied from the original, the same
topics). An automatic list (latest from a topic, the monthly digest) would otherwise show every language
version as a separate page, newest first, so translations pushed their original out of an English issue.
"""

from __future__ import annotations

from django.conf import settings


def one_version_each(pages, language: str | None) -> list[int]:
    """Ids of one version per translated page: the one in ``language``, else the original.

    The original is the version in the site's default language, or (a page first written in another language)
    the earliest one. ``pages`` is a queryset of the candidate versions (already limited to what the audience
    may read); the result keeps the order of each page's first publication, newest first.
    """
    language = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    default = settings.LANGUAGE_CODE.split("-")[0].lower()
    groups: dict = {}
    for page_id, key, code, published in pages.values_list(
            "id", "translation_key", "locale__language_code", "first_published_at").order_by("id"):
        groups.setdefault(key, []).append((page_id, code.split("-")[0].lower(), published))
    chosen = []
    for versions in groups.values():
        pick = (next((v for v in versions if v[1] == language), None)
                or next((v for v in versions if v[1] == default), None) or versions[0])
        first_published = min((v[2] for v in versions if v[2] is not None), default=None)
        chosen.append((first_published, pick[0]))
    chosen.sort(key=lambda item: (item[0] is not None, item[0], item[1]), reverse=True)
    return [page_id for _, page_id in chosen]


def issue_language(issue) -> str:
    """The language code of an issue's locale (the site's default language without one)."""
    locale = getattr(issue, "locale", None)
    return locale.language_code if locale is not None else settings.LANGUAGE_CODE
