"""Every public method of the user-facing surface has a numpy-style docstring (issue #17).

The scope is the surface people call: the protocols of ``api/protocols.py``, the answer
classes of ``api/answers.py``, ``eigenlake.connect*``/``build_info``/``set_num_threads``,
``connect_ray``, the embedder functions of ``eigenlake.embed`` and the async client
(``remote/aio.py``). Each method or function needs a summary, a ``Parameters`` section
naming every argument besides ``self`` (and no argument the signature lacks), ``Returns``
unless it returns None, and ``Examples`` with a ``>>>`` line marked ``# doctest: +SKIP``
(they need an index). A property needs only a summary."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

import eigenlake
from eigenlake import embed
from eigenlake.api import answers, protocols
from eigenlake.distributed import client as d_client
from eigenlake.remote import aio

PROTOCOLS = [
    protocols.Records,
    protocols.Analyses,
    protocols.Search,
    protocols.Settings,
    protocols.Manage,
    protocols.BatchWriter,
    protocols.Batch,
    protocols.Agent,
    protocols.Index,
    protocols.Indexes,
    protocols.Client,
]
ANSWERS = [
    answers.Answer,
    answers.NearestResult,
    answers.RecordPage,
    answers.ClusterResult,
    answers.OutliersResult,
    answers.TopicsResult,
    answers.AgentResult,
]
ASYNC = [aio.AsyncIndex, aio.AsyncIndexes, aio.AsyncClient]
FUNCTIONS: list[Callable[..., Any]] = [
    eigenlake.connect,
    eigenlake.connect_async,
    eigenlake.connect_local,
    eigenlake.build_info,
    eigenlake.set_num_threads,
    d_client.connect_ray,
    *(
        getattr(embed, name)
        for name in sorted(embed.__all__)
        if inspect.isfunction(getattr(embed, name))
    ),
]


def _members() -> list[tuple[str, Any]]:
    """``(qualified name, function or property)`` of everything in scope. A class's own
    public members only (``vars``): an inherited method is checked on the class that
    defines it (``Search``'s analyses on ``Analyses``)."""
    found: list[tuple[str, Any]] = []
    for cls in PROTOCOLS + ANSWERS + ASYNC:
        for name, value in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property) or inspect.isfunction(value):
                found.append((f"{cls.__name__}.{name}", value))
    found += [(f"{fn.__module__}.{fn.__name__}", fn) for fn in FUNCTIONS]
    return found


MEMBERS = _members()
METHODS = [(name, fn) for name, fn in MEMBERS if not isinstance(fn, property)]
IDS = [name for name, _ in MEMBERS]
METHOD_IDS = [name for name, _ in METHODS]

# A numpy section header: a title line, then a line of dashes.
_DASHES = re.compile(r"^-{3,}$")
# A parameter entry: ``name : type`` (or ``a, b : type``, ``**kwargs : type``) unindented.
_ENTRY = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::|$)")


def sections(doc: str) -> dict[str, list[str]]:
    """The docstring's numpy sections: title -> its lines (dedented as ``cleandoc`` does)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and not line[0].isspace() and _DASHES.match(nxt.strip()):
            current = out.setdefault(line.strip(), [])
            i += 2
            continue
        if current is not None:
            current.append(line)
        i += 1
    return out


def documented_parameters(doc: str) -> list[str]:
    """The names the ``Parameters`` section lists (stars dropped), in order."""
    names: list[str] = []
    for line in sections(doc).get("Parameters", []):
        if not line or line[0].isspace():
            continue  # a description line
        match = _ENTRY.match(line)
        if match:
            names += [n.strip().lstrip("*") for n in match.group(1).split(",")]
    return names


def parameters(fn: Callable[..., Any]) -> list[str]:
    """The arguments a caller passes: every one but ``self``/``cls``."""
    sig = inspect.signature(fn)
    return [p for p in sig.parameters if p not in ("self", "cls")]


def returns_none(fn: Callable[..., Any]) -> bool:
    ann = inspect.signature(fn).return_annotation
    return ann is None or ann == "None"


def doc_of(value: Any) -> str:
    """The member's own docstring (not one inherited from a base class)."""
    fn = value.fget if isinstance(value, property) else value
    return fn.__doc__ or ""


def test_scope_is_not_empty() -> None:
    """The walk finds the surface (a rename must not silently empty it)."""
    names = set(IDS)
    for expected in (
        "Records.add_many",
        "Analyses.cluster",
        "Search.nearest",
        "Indexes.create_or_get",
        "Client.close",
        "ClusterResult.plot",
        "AsyncClient.ready",
        "eigenlake.connect",
        "eigenlake.distributed.client.connect_ray",
        "eigenlake.embed.text.text_embedder",
        "eigenlake.embed.registry.register",
    ):
        assert expected in names
    assert len(METHODS) > 50


@pytest.mark.parametrize(("name", "member"), MEMBERS, ids=IDS)
def test_has_docstring(name: str, member: Any) -> None:
    doc = doc_of(member)
    assert doc.strip(), f"{name} has no docstring"
    summary = inspect.cleandoc(doc).splitlines()[0]
    assert summary.strip(), f"{name}: the docstring's first line (the summary) is empty"


@pytest.mark.parametrize(("name", "fn"), METHODS, ids=METHOD_IDS)
def test_parameters_section_names_every_parameter(name: str, fn: Callable[..., Any]) -> None:
    wanted = parameters(fn)
    if not wanted:
        return
    doc = doc_of(fn)
    assert "Parameters" in sections(doc), (
        f"{name} takes {', '.join(wanted)} but its docstring has no 'Parameters' section"
    )
    listed = documented_parameters(doc)
    missing = [p for p in wanted if p not in listed]
    assert not missing, f"{name}: the 'Parameters' section does not name {', '.join(missing)}"


@pytest.mark.parametrize(("name", "fn"), METHODS, ids=METHOD_IDS)
def test_documented_parameters_exist(name: str, fn: Callable[..., Any]) -> None:
    """Docs do not drift: a parameter the docstring names is in the signature."""
    stale = [p for p in documented_parameters(doc_of(fn)) if p not in parameters(fn)]
    assert not stale, f"{name}: the docstring names {', '.join(stale)}, not in the signature"


@pytest.mark.parametrize(("name", "fn"), METHODS, ids=METHOD_IDS)
def test_returns_section(name: str, fn: Callable[..., Any]) -> None:
    if returns_none(fn):
        return
    found = sections(doc_of(fn))
    assert "Returns" in found or "Yields" in found, (
        f"{name} returns a value but its docstring has no 'Returns' section"
    )


@pytest.mark.parametrize(("name", "fn"), METHODS, ids=METHOD_IDS)
def test_examples_section(name: str, fn: Callable[..., Any]) -> None:
    examples = sections(doc_of(fn)).get("Examples")
    assert examples is not None, f"{name}: the docstring has no 'Examples' section"
    prompts = [line for line in examples if line.lstrip().startswith(">>>")]
    assert prompts, f"{name}: the 'Examples' section has no '>>>' example"
    unmarked = [line for line in prompts if "doctest: +SKIP" not in line]
    assert not unmarked, f"{name}: example lines lack '# doctest: +SKIP': {unmarked}"
