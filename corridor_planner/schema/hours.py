"""Checks of OSM ``opening_hours`` text that its parser lets through.

The ``opening_hours`` parser accepts ``Feb 30``, a season of ``10:00-11:00`` and ``PH off``
(public holidays) although no holiday calendar is applied to a border post: a post joins
two countries whose holidays differ, and the parser knows the holidays of only a few
countries (of the corridor countries, KZ and CN; not KG, TJ, UZ, PK, IR or AF).
"""

from __future__ import annotations

import calendar
import re

#: Days in each month, February with its leap day.
_MONTH_DAYS = {
    name: 29 if number == 2 else calendar.monthrange(2001, number)[1]
    for number, name in enumerate(calendar.month_abbr)
    if name
}
_MONTH_DAY = re.compile(r"\b(" + "|".join(_MONTH_DAYS) + r")\s*(\d{1,2})\b(?!:)")
#: ``PH`` (public holidays) and ``SH`` (school holidays) as selectors, outside comments.
_HOLIDAY = re.compile(r"\b(PH|SH)\b")
_COMMENT = re.compile(r'"[^"]*"')
#: What a season (a range of dates) must not hold: times of day, sun events, weekdays.
_NOT_A_DATE = re.compile(r"\d{1,2}:\d{2}|\b(sunrise|sunset|dawn|dusk|Mo|Tu|We|Th|Fr|Sa|Su|24/7)\b")


def hours_problem(expression: str) -> str | None:
    """Return what is wrong in a parsed ``opening_hours`` expression, or None.

    Parameters
    ----------
    expression : str
        An expression the ``opening_hours`` parser accepted.

    Returns
    -------
    str or None
        A day that no month has (``Feb 30``), or a public or school holiday selector,
        which would be read as an ordinary day.
    """
    text = _COMMENT.sub('""', expression)
    for month, day in _MONTH_DAY.findall(text):
        if not 1 <= int(day) <= _MONTH_DAYS[month]:
            return f"{month} {day} is not a day of the year (in {expression!r})"
    holiday = _HOLIDAY.search(text)
    if holiday:
        which = "public" if holiday.group(1) == "PH" else "school"
        return (
            f"{holiday.group(1)} ({which} holidays) in {expression!r}: no holiday calendar is "
            "applied to border posts (a post joins two countries whose holidays differ), so "
            "it would be read as an ordinary day; write the dates instead (Jan 01 off)"
        )
    return None


def season_problem(expression: str) -> str | None:
    """Return why a parsed ``season`` is not a range of dates (``Apr 01-Nov 30``), or None."""
    found = _NOT_A_DATE.search(_COMMENT.sub('""', expression))
    if found:
        return (
            f"a season is a range of dates such as 'Apr 01-Nov 30', not {found.group(0)!r} "
            f"(in {expression!r}); times and week days belong in opening_hours"
        )
    return None
