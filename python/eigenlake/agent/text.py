"""The request text with the spans already turned into conditions masked out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Condition:
    """One inferred condition: its filter and a line for the explanation."""

    filter: dict[str, Any]
    description: str


@dataclass
class Request:
    text: str
    lower: str = ""
    used: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Curly quotes and dashes to ASCII so patterns stay simple; same length, spans align.
        self.lower = self.text.lower().translate(
            str.maketrans("\u2019\u2018\u201c\u201d\u2013", "''\"\"-")
        )
        self.used = [False] * len(self.lower)

    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def take(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.used[i] = True

    def matches(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches of ``pattern`` on the lower-cased text that touch no used span."""
        for m in pattern.finditer(self.lower):
            if self.free(m.start(), m.end()):
                yield m

    def words_before(self, pos: int, n: int) -> list[str]:
        return re.findall(r"[a-z_][a-z0-9_]*", self.lower[:pos])[-n:]

    def words_after(self, pos: int, n: int) -> list[str]:
        return re.findall(r"[a-z_][a-z0-9_]*", self.lower[pos:])[:n]
