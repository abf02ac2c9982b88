"""The action a request asks for, from its verbs and nouns."""

from __future__ import annotations

import re

# Checked in this order: "show unusual tickets" is an outlier request, not a listing,
# and "find the topics" asks for topics.
INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "outliers",
        re.compile(
            r"\b(unusual|anomal\w*|outliers?|odd|strange|weird|atypical|abnormal|suspicious|"
            r"rare|irregular|out of the ordinary)\b"
        ),
    ),
    ("topics", re.compile(r"\b(topics?|topic model\w*)\b")),
    (
        "cluster",
        re.compile(
            r"\b(cluster\w*|group\w*|segment\w*|categori[sz]\w*|themes?|partition\w*|"
            r"bucket\w*|similar ones together)\b"
        ),
    ),
    (
        "filter",
        re.compile(
            r"\b(show|find|list|get|fetch|give|display|retrieve|return|search|select|count|"
            r"how many|look up|lookup)\b"
        ),
    ),
]
# Question words ask for records only together with a condition ("which human proteins");
# alone ("what is the weather like") they are not understood.
WEAK_FILTER = re.compile(r"\b(which|what|where|are there|any)\b")


def detect_intent(lower: str) -> tuple[str | None, str | None]:
    """(action, the word that decided it), or (None, None); question words give
    ("filter?", word): a listing only if the request also holds a condition."""
    for action, pattern in INTENTS:
        m = pattern.search(lower)
        if m:
            return action, m.group(0)
    m = WEAK_FILTER.search(lower)
    return ("filter?", m.group(0)) if m else (None, None)
