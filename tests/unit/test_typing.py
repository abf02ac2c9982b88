"""What a type checker sees of the public surface: ``connect(path=...)`` is the embedded
client, ``connect(url=...)`` the remote one (mypy run on a snippet; fails when the
overloads go)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

SNIPPET = """
import eigenlake
from eigenlake.embedded.client import EmbeddedClient
from eigenlake.remote.client import RemoteClient

a: EmbeddedClient = eigenlake.connect(path="x")
b: RemoteClient = eigenlake.connect(url="http://x")
c: RemoteClient = eigenlake.connect(path="x")  # E: the embedded client is no remote one
"""


def test_connect_is_typed_by_its_arguments(tmp_path: Path) -> None:
    src = tmp_path / "snippet.py"
    src.write_text(SNIPPET)
    out, _err, code = api.run(
        [str(src), "--cache-dir", str(tmp_path / "cache"), "--ignore-missing-imports"]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert code == 1 and len(errors) == 1, out
    assert "snippet.py:8:" in errors[0] and "EmbeddedClient" in errors[0]
