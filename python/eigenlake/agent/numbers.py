"""Numeric comparisons: "longer than 300 residues", "at least 5", "between 100 and 200"."""

from __future__ import annotations

import re

from .plan import FieldInfo, PlanContext
from .text import Condition, Request

NUM = r"(-?\d+(?:[.,]\d+)*)"
# Order matters: the longer phrases ("no less than") must win over their tails ("less than").
_COMPARISONS: list[tuple[str, re.Pattern[str]]] = [
    ("between", re.compile(rf"\bbetween\s+{NUM}\s+(?:and|to|-)\s+{NUM}")),
    ("between", re.compile(rf"\bfrom\s+{NUM}\s+to\s+{NUM}")),
    (
        "$gte",
        re.compile(
            rf"(?:\bat least|\bno (?:less|fewer|shorter) than|\bnot less than|\bminimum(?: of)?|>=|≥)\s*{NUM}"
        ),
    ),
    (
        "$lte",
        re.compile(
            rf"(?:\bat most|\bno (?:more|longer|greater) than|\bnot more than|\bup to|\bmaximum(?: of)?|<=|≤)\s*{NUM}"
        ),
    ),
    ("$gte", re.compile(rf"{NUM}\s*(?:[a-z]+\s+){{0,2}}or (?:more|longer|greater|higher|above)\b")),
    ("$lte", re.compile(rf"{NUM}\s*(?:[a-z]+\s+){{0,2}}or (?:less|fewer|shorter|lower|below)\b")),
    (
        "$gt",
        re.compile(
            rf"(?:\b(?:longer|greater|more|larger|bigger|higher|heavier|older)\s+than|\bover|\babove|\bexceeding|\bexceeds|>)\s*{NUM}"
        ),
    ),
    (
        "$lt",
        re.compile(
            rf"(?:\b(?:shorter|less|fewer|smaller|lower|lighter|younger)\s+than|\bunder|\bbelow|<)\s*{NUM}"
        ),
    ),
    ("$eq", re.compile(rf"(?:\bexactly|\bequal to|\bequals|==|=)\s*{NUM}")),
]
# Words that say "this number is a length": they pick a length-like property.
_LENGTH_WORDS = {"residues", "residue", "aa", "amino", "acids", "characters", "chars", "letters"}
_LENGTH_WORDS |= {"long", "longer", "shorter", "length", "len", "bases", "tokens", "words"}


def comparisons(req: Request, ctx: PlanContext, unresolved: list[str]) -> list[Condition]:
    out = []
    for op, pattern in _COMPARISONS:
        for m in list(req.matches(pattern)):
            if not req.free(m.start(), m.end()):  # taken by an earlier match of this loop
                continue
            req.take(m.start(), m.end())
            field = _which_field(req, m, ctx)
            phrase = m.group(0).strip()
            if field is None:
                unresolved.append(
                    f"'{phrase}': no numeric property fits (name it, e.g. 'length over 300')"
                )
                continue
            nums = [_number(g, field) for g in m.groups() if g is not None]
            if op == "between":
                lo, hi = sorted(nums)
                out.append(
                    Condition({field.name: {"$gte": lo}}, f"{field.name} >= {lo} ('{phrase}')")
                )
                out.append(
                    Condition({field.name: {"$lte": hi}}, f"{field.name} <= {hi} ('{phrase}')")
                )
            else:
                out.append(
                    Condition(
                        {field.name: {op: nums[0]}}, f"{field.name} {op} {nums[0]} ('{phrase}')"
                    )
                )
    return out


def _number(text: str, field: FieldInfo) -> int | float:
    value = float(text.replace(",", ""))
    return int(value) if field.type == "integer" and value.is_integer() else value


def _which_field(req: Request, m: re.Match[str], ctx: PlanContext) -> FieldInfo | None:
    """The numeric property a comparison is about: named near it, implied by a unit, or the
    only numeric property of the index."""
    fields = ctx.numeric_fields()
    if not fields:
        return None
    near = req.words_before(m.start(), 4) + m.group(0).split() + req.words_after(m.end(), 3)
    near_text = " ".join(near)
    for f in sorted(fields, key=lambda f: -len(f.name)):  # "swissprot_length" before "length"
        spoken = f.name.replace("_", " ")
        if re.search(rf"\b({re.escape(f.name)}|{re.escape(spoken)})s?\b", near_text):
            return f
    if _LENGTH_WORDS & set(near):
        lengthy = [f for f in fields if re.search(r"(^|_)(length|len|size)($|_)", f.name)]
        exact = [f for f in lengthy if f.name in ("length", "len", "size")]
        if exact or lengthy:
            return (exact or lengthy)[0]
    return fields[0] if len(fields) == 1 else None
