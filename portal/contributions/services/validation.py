"""Checking a hotline's figures: each field on its own, then across fields, then against the previous period.

Pure functions over plain data (``MeasureSpec`` built from the measure catalogue), so the form, the CSV upload
and the property tests share one set of rules. Every ``Problem`` names the field (the measure's label and code)
and, for an upload, the row of the file, in words for the person who typed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

COUNT = "count"
PERCENT = "percent"
MAX_COUNT = 10**12
MAX_COMMENT_LENGTH = 2000
# Spaces people put between thousands (ordinary, no-break and thin spaces); commas and dots are refused
# for counts because "1.200" and "1,200" mean different things in different member countries.
THOUSANDS_SPACES_RE = re.compile(r"[ \u00a0\u202f\u2009]")
COUNT_RE = re.compile(r"^\d+$")
PERCENT_RE = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?$")


@dataclass(frozen=True)
class MeasureSpec:
    """What the rules need to know about one measure."""

    code: str
    label: str
    kind: str = COUNT
    at_most: str = ""  # code of the measure this one may not exceed
    unit: str = ""

    @classmethod
    def from_measure(cls, measure) -> MeasureSpec:
        return cls(code=measure.code, label=measure.label, kind=measure.kind,
                   at_most=measure.at_most.code if measure.at_most_id else "", unit=measure.unit)


@dataclass(frozen=True)
class Problem:
    """One thing to correct: the measure (field), the row of an uploaded file if any, and what is wrong."""

    code: str
    label: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f'Row {self.row}, "{self.label}"' if self.row else f'"{self.label}"'
        return f"{where}: {self.message}"


@dataclass
class Checked:
    """The outcome: clean values (only measures that were filled in), comments, problems and jumps noticed."""

    values: dict[str, int | str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    jumps: dict[str, str] = field(default_factory=dict)  # code -> explanation of the jump (needs a comment)

    @property
    def ok(self) -> bool:
        return not self.problems

    def refuse(self, spec: MeasureSpec, message: str, row: int | None) -> None:
        """Record a problem with the measure's figure or comment."""
        self.problems.append(Problem(spec.code, spec.label, message, row))


class FieldError(ValueError):
    """What is wrong with one value."""


def parse_count(raw: str) -> int:
    """ "1200" or "1 200" → 1200. Whole numbers only, no signs, separators or decimals."""
    text = THOUSANDS_SPACES_RE.sub("", raw.strip())
    if not COUNT_RE.match(text):
        raise FieldError(f'"{raw.strip()}" is not a whole number: write digits only, such as 1200.')
    if len(text) > len(str(MAX_COUNT)):  # before int(): Python refuses to convert thousands of digits
        raise FieldError(f"{text[:20]}… is too large to be a count.")
    value = int(text)
    if value >= MAX_COUNT:
        raise FieldError(f"{value} is too large to be a count.")
    return value


def parse_percent(raw: str) -> Decimal:
    """ "91", "91.5", "91,5" or "91.5 %" → Decimal("91.5"); between 0 and 100 with at most two decimals."""
    text = raw.strip().removesuffix("%").strip()
    match = PERCENT_RE.match(text)
    if not match:
        raise FieldError(f'"{raw.strip()}" is not a share: write a percentage between 0 and 100, such as 91.5.')
    value = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    if value > 100:
        raise FieldError(f"{value.normalize():f} % is more than 100 %: a share lies between 0 and 100 %.")
    return value


# How a typed figure is read, by the measure's kind (anything else is a count).
PARSERS = {PERCENT: parse_percent, COUNT: parse_count}


def parse_value(spec: MeasureSpec, raw: str) -> int | Decimal:
    return PARSERS.get(spec.kind, parse_count)(raw)


def stored(value: int | Decimal) -> int | str:
    """The JSON form of a checked value: counts as integers, shares as decimal strings."""
    return value if isinstance(value, int) else f"{value.normalize():f}"


def as_number(value) -> Decimal | None:
    """The value as a number; None when it is none (None, "" and other text Decimal refuses)."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def ratio(now, before) -> str:
    """How many times the previous figure this one is, after a multiplication sign; "" when either is missing
    or the previous one is 0."""
    now, before = as_number(now), as_number(before)
    if now is None or not before:
        return ""
    return f"\u00d7{now / before:.2f}"


def _fmt(value) -> str:
    number = as_number(value)
    if number is None:
        return str(value)
    return f"{int(number):,}" if number == number.to_integral_value() else f"{number.normalize():f}"


def check(
    specs: Iterable[MeasureSpec],
    raw_values: Mapping[str, str],
    raw_comments: Mapping[str, str] | None = None,
    *,
    previous: Mapping[str, object] | None = None,
    jump_factor: Decimal | float = 3,
    complete: bool = False,
    rows: Mapping[str, int] | None = None,
) -> Checked:
    """Check figures for the given measures.

    ``complete`` (submitting, not saving a draft) requires every measure, applies the limits between measures
    and requires a comment on every figure that jumps by more than ``jump_factor`` against ``previous``.
    ``rows`` maps codes to the row of an uploaded file, so problems name it.
    """
    specs = list(specs)
    rows = rows or {}
    raw_comments = raw_comments or {}
    result = Checked()
    numbers: dict[str, Decimal] = {}
    for spec in specs:
        number = _check_field(spec, raw_values.get(spec.code, ""), raw_comments.get(spec.code, ""), result,
                              complete=complete, row=rows.get(spec.code))
        if number is not None:
            numbers[spec.code] = number
    _check_limits(specs, numbers, rows, result)
    _check_jumps(specs, numbers, previous or {}, Decimal(str(jump_factor)), rows, result, complete=complete)
    return result


def _check_comment(spec: MeasureSpec, comment: str, result: Checked, row: int | None) -> None:
    if len(comment) > MAX_COMMENT_LENGTH:
        result.refuse(spec, f"the comment is longer than {MAX_COMMENT_LENGTH} characters.", row)
    elif comment:
        result.comments[spec.code] = comment


def _check_field(spec: MeasureSpec, raw: str, comment: str, result: Checked, *, complete: bool,
                 row: int | None) -> Decimal | None:
    """One measure's comment and figure: the figure as a number, or None (missing or refused, with the
    problem recorded)."""
    _check_comment(spec, comment.strip(), result, row)
    raw = raw.strip()
    if not raw:
        if complete:
            result.refuse(spec, "a figure is needed; write 0 if there were none.", row)
        return None
    try:
        value = parse_value(spec, raw)
    except FieldError as error:
        result.refuse(spec, str(error), row)
        return None
    result.values[spec.code] = stored(value)
    return Decimal(value)


def _exceeds(numbers: dict[str, Decimal], code: str, limit_code: str) -> bool:
    """Whether both figures were given and the first is larger than the second."""
    return code in numbers and limit_code in numbers and numbers[code] > numbers[limit_code]


def _check_limits(specs: list[MeasureSpec], numbers: dict[str, Decimal], rows: Mapping[str, int],
                  result: Checked) -> None:
    """Across fields: a figure may not exceed the one it is part of."""
    by_code = {spec.code: spec for spec in specs}
    for spec in specs:
        if _exceeds(numbers, spec.code, spec.at_most):  # never when at_most names no measure being checked
            limit = by_code[spec.at_most]
            result.refuse(spec, f'{_fmt(numbers[spec.code])} is more than "{limit.label}" '
                                f"({_fmt(numbers[limit.code])}); it cannot exceed it.", rows.get(spec.code))


def _jumped(before: Decimal, now: Decimal, factor: Decimal) -> bool:
    if before > 0:
        return now > before * factor or now * factor < before
    return before == 0 and now >= 100


def _jump(spec: MeasureSpec, before: Decimal | None, now: Decimal | None, factor: Decimal) -> str:
    """Why a count needs a word of explanation against the previous period ("" if it does not)."""
    if spec.kind != COUNT or before is None or now is None or not _jumped(before, now, factor):
        return ""
    return f"{_fmt(now)} against {_fmt(before)} in the previous period"


def _check_jumps(specs: list[MeasureSpec], numbers: dict[str, Decimal], previous: Mapping[str, object],
                 factor: Decimal, rows: Mapping[str, int], result: Checked, *, complete: bool) -> None:
    """Against the previous period: a big change needs a word of explanation, not a refusal."""
    if factor <= 1:
        return
    for spec in specs:
        why = _jump(spec, as_number(previous.get(spec.code)), numbers.get(spec.code), factor)
        if not why:
            continue
        result.jumps[spec.code] = why
        if complete and spec.code not in result.comments:
            result.refuse(spec, f"{why} is a change of more than {factor.normalize():f} times: please add a "
                                "comment explaining it.", rows.get(spec.code))
