"""Values of string properties named in the request ("Homo sapiens", "open tickets").

Each known value gives aliases: the value itself, the value without its parenthesised parts
("Homo sapiens (Human)" -> "homo sapiens") and each parenthesised part ("human"). The
longest aliases are matched first, as whole words, case-insensitively.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from .plan import PlanContext
from .text import Condition, Request

MIN_ALIAS = 3
_NEGATION = re.compile(
    r"\b(not|no|excluding|except|without|exclude|other than|besides)\s+(?:\w+\s+){0,2}$"
)
# Aliases that are ordinary words of requests would turn "show all records" into a filter.
_TOO_COMMON = {
    "all",
    "any",
    "none",
    "other",
    "others",
    "unknown",
    "show",
    "find",
    "list",
    "cluster",
}


def _aliases(value: str) -> set[str]:
    v = " ".join(value.lower().split())
    out = {v, re.sub(r"\s*\([^)]*\)", "", v).strip()}
    out |= {p.strip() for p in re.findall(r"\(([^)]*)\)", v)}
    return {a for a in out if len(a) >= MIN_ALIAS and a not in _TOO_COMMON}


def value_matches(req: Request, ctx: PlanContext) -> list[Condition]:
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)  # alias -> [(field, value)]
    for f in ctx.fields.values():
        if f.filterable and f.type in ("string", "array") and f.values:
            for v in f.values:
                for a in _aliases(v):
                    index[a].append((f.name, v))
    # (field, negated) -> [(position in the request, value, words)]
    picked: dict[tuple[str, bool], list[tuple[int, str, str]]] = defaultdict(list)
    out: list[Condition] = []
    for alias in sorted(index, key=len, reverse=True):
        if alias not in req.lower:
            continue
        for m in req.matches(re.compile(rf"(?<![\w-]){re.escape(alias)}(?![\w-])")):
            req.take(m.start(), m.end())
            negated = bool(_NEGATION.search(req.lower[: m.start()]))
            candidates = _prefer_named_field(index[alias], req.lower)
            if len({f for f, _ in candidates}) > 1:  # a value of several properties: any of them
                either = [{f: {"$eq": v}} for f, v in candidates]
                flt: dict[str, Any] = {"$not": {"$or": either}} if negated else {"$or": either}
                out.append(Condition(flt, f"any of {candidates} ('{m.group(0)}')"))
                continue
            for field, value in candidates:
                picked[(field, negated)].append((m.start(), value, m.group(0)))
    for (field, negated), hits in picked.items():
        hits.sort()  # values in the order the request names them
        values = list(dict.fromkeys(v for _, v, _ in hits))
        words = ", ".join(f"'{w}'" for w in dict.fromkeys(w for _, _, w in hits))
        kind = ctx.fields[field].type
        if kind == "array":
            conds = [{field: {"$contains": v}} for v in values]
            flt = conds[0] if len(conds) == 1 else {"$or": conds}
            if negated:
                flt = {"$not": flt}
        elif len(values) == 1:
            flt = {field: {"$ne" if negated else "$eq": values[0]}}
        else:
            flt = {field: {"$nin" if negated else "$in": values}}
        sign = "not in" if negated else "in"
        out.append(Condition(flt, f"{field} {sign} {values} ({words})"))
    return out


def _prefer_named_field(candidates: list[tuple[str, str]], lower: str) -> list[tuple[str, str]]:
    """When a word is a value of several properties, keep those the request names, if any."""
    fields = {f for f, _ in candidates}
    if len(fields) == 1:
        return candidates
    named = {f for f in fields if re.search(rf"\b{re.escape(f.replace('_', ' '))}", lower)}
    return [c for c in candidates if c[0] in named] if named else candidates
