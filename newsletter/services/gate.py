"""The newsletter's access gate: an issue may only contain what its whole audience may read on the site.

Checked when an issue is saved or published (the editor sees which page is the problem) and again when it
is sent, since a page may have been restricted in between. Automatic lists never need checking: they pick
only pages every audience viewer may read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from wagtail.models import Page

from newsletter.services.audience import audience_viewers, includes_public, original_issue
from portal.core.privacy import closed_paths

# Internal page links in Wagtail rich text: <a linktype="page" id="42">.
PAGE_LINK = re.compile(r'<a[^>]*\blinktype="page"[^>]*\bid="(\d+)"|<a[^>]*\bid="(\d+)"[^>]*\blinktype="page"')


@dataclass(frozen=True)
class Violation:
    """A page (or dataset) in an issue that part of its audience may not read."""

    title: str
    message: str


class GateError(Exception):
    """Raised when sending an issue that fails the access gate."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        super().__init__("; ".join(violation.message for violation in violations))


def _page_ids_in_rich_text(html: str) -> set[int]:
    return {int(first or second) for first, second in PAGE_LINK.findall(str(html))}  # None: "None", no links


def referenced_page_ids(issue) -> set[int]:
    """Ids of every portal page an issue links to by hand (cards, buttons, links inside text)."""
    ids = _page_ids_in_rich_text(getattr(issue.intro, "source", issue.intro))
    for block in issue.body:
        ids |= _block_page_ids(block)
    return ids


def _block_page_ids(block) -> set[int]:
    """The pages one body block links to: a card's or button's chosen page, or the links in a text block."""
    if block.block_type == "text":
        return _page_ids_in_rich_text(block.value.source)
    if block.block_type in {"featured_page", "call_to_action"}:
        return _chosen_page_id(block.value.get("page"))
    return set()


def _chosen_page_id(page) -> set[int]:
    """The id of a page chooser's value (a page or its id), none when nothing is chosen."""
    if page is None:
        return set()
    return {page.pk if hasattr(page, "pk") else int(page)}


def referenced_datasets(issue) -> list:
    return [block.value["dataset"] for block in issue.body if block.block_type == "statistics" and block.value.get(
        "dataset") is not None]


def audience_description(issue) -> str:
    from newsletter.models import Audience

    return "the public" if includes_public(issue) else Audience(issue.audience).label.lower()


def gate_violations(issue, *, audience_of=None) -> list[Violation]:
    """Every referenced page or dataset that is unpublished or restricted beyond the issue's audience.

    ``audience_of``: the issue whose audience counts (by default the original of ``issue``: a translation's
    own audience fields never count).
    """
    audience_of = audience_of or original_issue(issue)
    viewers = audience_viewers(audience_of)
    audience = audience_description(audience_of)
    return [*_page_violations(issue, viewers, audience), *_dataset_violations(issue, viewers, audience)]


def _page_violations(issue, viewers, audience: str) -> list[Violation]:
    """The referenced pages that are not published, or that some viewer of the audience may not open."""
    closed = _closed_to_any(viewers)
    pages = Page.objects.filter(pk__in=referenced_page_ids(issue)).only("id", "title", "path", "live")
    violations = (_page_violation(page, closed, audience) for page in pages.order_by("path"))
    return [violation for violation in violations if violation is not None]


def _closed_to_any(viewers) -> tuple[str, ...]:
    """Tree paths of the subtrees closed to at least one of the viewers (``str.startswith`` takes them at once)."""
    return tuple(path for viewer in viewers for path in closed_paths(viewer))


def _page_violation(page, closed: tuple[str, ...], audience: str) -> Violation | None:
    if not page.live:
        return Violation(page.title, f"“{page.title}” is not published, so readers cannot open it.")
    if page.path.startswith(closed):
        return Violation(page.title, f"“{page.title}” is restricted beyond this issue's audience ({audience}): "
                                     "remove it or choose an audience that may read it.")
    return None


def _dataset_violations(issue, viewers, audience: str) -> list[Violation]:
    """The referenced datasets that some viewer of the audience may not see."""
    return [
        Violation(dataset.title, f"The dataset “{dataset.title}” is restricted beyond this issue's "
                                 f"audience ({audience}).")
        for dataset in referenced_datasets(issue)
        if not all(dataset.is_visible_to(viewer) for viewer in viewers)
    ]


def check_issue(issue, *, audience_of=None) -> None:
    """Raise :class:`GateError` when the issue fails the gate (used again at send time)."""
    violations = gate_violations(issue, audience_of=audience_of)
    if violations:
        raise GateError(violations)


def audience_problems(issue) -> list[str]:
    """Audience settings that cannot work (e.g. a sector audience with no sector)."""
    from newsletter.models import Audience

    if issue.audience == Audience.SECTORS and not list(issue.audience_sectors.all()):
        return ["Choose at least one sector for a sector audience."]
    return []


def issue_errors(issue) -> dict[str, list[str]]:
    """What an editor may not save in an issue, by field: an audience that cannot work (a translation's own
    audience fields never count: the original's audience is its audience), else the gate's violations."""
    problems = audience_problems(issue) if original_issue(issue) is issue else []
    if problems:  # the only problem is a sector audience without sectors
        return {"audience_sectors": problems}
    violations = gate_violations(issue)
    return {"body": [violation.message for violation in violations]} if violations else {}


def validate_issue(issue) -> None:
    """Raise the ``ValidationError`` the admin form shows for ``issue_errors`` (for code that saves issues)."""
    errors = issue_errors(issue)
    if errors:
        raise ValidationError(errors)
