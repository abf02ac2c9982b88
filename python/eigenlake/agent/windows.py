"""Time windows ("last 7 days", "yesterday", "recent") and failure words ("failed")."""

from __future__ import annotations

import datetime as dt
import re

from .plan import PlanContext
from .text import Condition, Request

_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
_WINDOW = re.compile(
    r"\b(?:in\s+the\s+|within\s+the\s+|during\s+the\s+|over\s+the\s+)?(?:last|past|previous)\s+"
    r"(\d+|a|an|one|two|three|four|five|six|seven|ten|few)?\s*(hour|day|week|month|year)s?\b"
)
_WORD_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_WORD_NUM |= {"six": 6, "seven": 7, "ten": 10, "few": 3}
_RECENT = re.compile(r"\b(recent(?:ly)?|lately|latest|newest|this week|today|yesterday)\b")
_FAILURE = re.compile(
    r"\b(fail(?:ed|ure|ures|ing|s)?|errors?|erroring|errored|broken|crash(?:ed|es|ing)?)\b"
)


def time_windows(req: Request, ctx: PlanContext, unresolved: list[str]) -> list[Condition]:
    found: list[tuple[int, int, float, str]] = []
    for m in req.matches(_WINDOW):
        amount = m.group(1)
        n = 1 if amount is None else int(amount) if amount.isdigit() else _WORD_NUM[amount]
        found.append((m.start(), m.end(), n * _UNIT_DAYS[m.group(2)], m.group(0).strip()))
    for m in req.matches(_RECENT):
        word = m.group(1)
        days = float({"today": 1, "yesterday": 2, "this week": 7}.get(word, ctx.recent_days))
        found.append((m.start(), m.end(), days, word))
    if not found:
        return []
    field = ctx.fields.get(ctx.time_field)
    out = []
    for start, end, days, phrase in found:
        req.take(start, end)
        if field is None or field.type not in ("datetime", "date") or not field.filterable:
            unresolved.append(
                f"'{phrase}' needs a filterable datetime property '{ctx.time_field}' "
                "(set time_field=...)"
            )
            continue
        try:
            since = ctx.now - dt.timedelta(days=days)
        except OverflowError:  # "the last 99999999 years": before year 1
            unresolved.append(f"'{phrase}' reaches back before the year 1")
            continue
        value = since.date().isoformat() if field.type == "date" else since.isoformat()
        out.append(
            Condition({field.name: {"$gte": value}}, f"{field.name} >= {value} ('{phrase}')")
        )
    return out


def failures(req: Request, ctx: PlanContext, unresolved: list[str]) -> list[Condition]:
    hits = list(req.matches(_FAILURE))
    if not hits:
        return []
    for m in hits:
        req.take(m.start(), m.end())
    word = hits[0].group(0)
    field = ctx.fields.get(ctx.failure_field)
    if field is None or not field.filterable:
        unresolved.append(
            f"'{word}' needs a filterable property '{ctx.failure_field}' (set failure_field=...)"
        )
        return []
    wanted = {v.lower() for v in ctx.failure_values}
    # Use the spelling stored in the index ("FAILED") when it is there.
    values = [v for v in field.values if v.lower() in wanted] or list(ctx.failure_values)
    flt = {field.name: {"$eq": values[0]}} if len(values) == 1 else {field.name: {"$in": values}}
    return [Condition(flt, f"{field.name} in {values} ('{word}')")]
