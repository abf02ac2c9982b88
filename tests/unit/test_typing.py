"""What a type checker sees of the public surface: ``connect(path=...)`` is the embedded
client, ``connect(url=...)`` the remote one (mypy run on a snippet; fails when the
overloads go)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mypy import api


@pytest.fixture(autouse=True)
def _recursion_limit() -> Iterator[None]:
    """mypy's in-process run raises the recursion limit to 16,384 and leaves it there;
    put it back, so later tests (a body nested 10,000 deep must fail to encode) see the
    interpreter's own."""
    limit = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(limit)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One mypy cache for the module: the package is analysed once."""
    return str(tmp_path_factory.mktemp("mypy-cache"))


SNIPPET = """
import eigenlake
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.remote.client import RemoteClient

a: EmbeddedClient = eigenlake.connect(path="x")
b: RemoteClient = eigenlake.connect(url="http://x")
c: RemoteClient = eigenlake.connect(path="x")  # E: the embedded client is no remote one
"""


def test_connect_is_typed_by_its_arguments(tmp_path: Path, cache: str) -> None:
    src = tmp_path / "snippet.py"
    src.write_text(SNIPPET)
    out, _err, code = api.run([str(src), "--cache-dir", cache, "--ignore-missing-imports"])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert code == 1 and len(errors) == 1, out
    assert "snippet.py:8:" in errors[0] and "EmbeddedClient" in errors[0]


ANSWERS = """
import eigenlake

with eigenlake.connect(path="x") as c:
    idx = c.indexes.open(namespace="a", index="b")
    res = idx.search.cluster()
    words: str = res["clusters"][0]["summary"]
    n: int = idx.agent.query("x")["clusters"][0]["count"]
    uid: str = idx.records.list()["objects"][0]["uuid"]
    units: float = idx.search.nearest(vector=[1.0])["usage"]["search_units"]
    typo = res["clusters"][0]["sumary"]  # E: no such key
"""


def test_answers_complete_their_keys(tmp_path: Path, cache: str) -> None:
    """The answers type their keys (TypedDicts of ``api/shapes.py``): an editor completes
    ``res["clusters"][0]["summary"]`` and a type checker catches a misspelt key."""
    src = tmp_path / "answers.py"
    src.write_text(ANSWERS)
    out, _err, code = api.run([str(src), "--cache-dir", cache, "--ignore-missing-imports"])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert code == 1 and len(errors) == 1, out
    assert "answers.py:11:" in errors[0] and "sumary" in errors[0]
