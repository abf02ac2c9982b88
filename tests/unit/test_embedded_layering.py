"""The embedded facades and the shards use ``Index``'s internal API
(``embedded/internal.py``), not its private state, and the modules of ``embedded/`` import
each other without a loop."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import eigenlake

PACKAGE = Path(eigenlake.__file__).parent
EMBEDDED = PACKAGE / "embedded"
# what ``grep -rnoE`` counts in the "one surface" issue: an index's private attribute
PRIVATE_REACH = re.compile(r"(index|idx|self\._index|self\._i|ix)\._[a-z][a-z_]*")
MAX_PRIVATE_REACHES = 20


def _scanned() -> dict[str, Path]:
    """Every module of the package but the index's own (which may use its state):
    ``distributed/`` (the shards, the sharded index) counts like the rest."""
    paths = {p.relative_to(PACKAGE).as_posix(): p for p in sorted(PACKAGE.rglob("*.py"))}
    paths.pop("embedded/index.py")
    return paths


def _private_reaches() -> dict[str, int]:
    counts: dict[str, int] = {}
    for rel, path in _scanned().items():
        found = len(PRIVATE_REACH.findall(path.read_text(encoding="utf-8")))
        if found:
            counts[rel] = found
    return counts


def test_few_reaches_into_an_index_private_state() -> None:
    scanned = _scanned()
    assert "distributed/shard.py" in scanned and "distributed/sharded.py" in scanned
    counts = _private_reaches()
    assert sum(counts.values()) <= MAX_PRIVATE_REACHES, counts


def test_the_count_sees_a_reach() -> None:
    # the pattern itself: a reach is counted, the internal API is not
    assert PRIVATE_REACH.findall("with index._lock: idx._sync(); self._index._cache") == [
        "index",
        "idx",
        "self._index",
    ]
    assert PRIVATE_REACH.findall("with self._index.reading() as view: view.cache") == []


def _module_level_imports(path: Path) -> set[str]:
    """``embedded`` modules ``path`` imports outside any function or class body (imports
    under ``if TYPE_CHECKING:`` count: a type checker follows them)."""
    names = {p.stem for p in EMBEDDED.glob("*.py")}
    found: set[str] = set()
    todo: list[ast.stmt] = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from . import x / from .x import y
                if node.module is None:
                    found |= {a.name for a in node.names if a.name in names}
                else:
                    found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("eigenlake.embedded."):
                found.add((node.module or "").split(".")[2])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("eigenlake.embedded."):
                    found.add(alias.name.split(".")[2])
        # statements nested in if/try/with/for/while blocks are still module level
        for field in ("body", "orelse", "finalbody", "handlers"):
            todo.extend(getattr(node, field, []) or [])
    found.discard(path.stem)
    return found & names


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_embedded_modules_import_each_other_without_a_loop() -> None:
    graph = {p.stem: _module_level_imports(p) for p in sorted(EMBEDDED.glob("*.py"))}
    assert "index" in graph and "records" in graph
    assert graph["records"], "the import graph found no edges: the parser is broken"
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
