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
    preferred = (_short(language or settings.LANGUAGE_CODE), _short(settings.LANGUAGE_CODE))
    chosen = [(_first_published(versions), _pick(versions, preferred))
              for versions in _versions_by_page(pages).values()]
    chosen.sort(key=lambda item: (item[0] is not None, item[0], item[1]), reverse=True)
    return [page_id for _, page_id in chosen]


def _short(code: str) -> str:
    """The bare language of a code ("pt-BR" → "pt")."""
    return code.split("-")[0].lower()


def _versions_by_page(pages) -> dict:
    """(id, language, first publication) of every version, grouped by translation key, oldest id first."""
    groups: dict = {}
    for page_id, key, code, published in pages.values_list(
            "id", "translation_key", "locale__language_code", "first_published_at").order_by("id"):
        groups.setdefault(key, []).append((page_id, _short(code), published))
    return groups


def _first_published(versions: list):
    """When the page was first published in any language (None if never)."""
    return min((published for _, _, published in versions if published is not None), default=None)


def _pick(versions: list, preferred: tuple[str, ...]) -> int:
    """The id of the first version in the first of the ``preferred`` languages that has one, else the earliest."""
    for language in preferred:
        for page_id, code, _ in versions:
            if code == language:
                return page_id
    return versions[0][0]


def issue_language(issue) -> str:
    """The language code of an issue's locale (the site's default language without one)."""
    locale = getattr(issue, "locale", None)
    return locale.language_code if locale is not None else settings.LANGUAGE_CODE
