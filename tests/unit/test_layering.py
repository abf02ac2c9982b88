"""The import rule: ``remote/`` and ``api/`` stand on the neutral modules only, so the thin
remote client loads neither the embedded store (SQLite) nor the compiled ``_core``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import eigenlake

PACKAGE = Path(eigenlake.__file__).parent
FORBIDDEN = ("embedded", "_core", "distributed")


def test_remote_client_loads_no_store_and_no_core() -> None:
    # connect(url=...) builds the client (an httpx pool) without a request: port 9 is
    # never contacted
    code = (
        "import json, sys\n"
        "import eigenlake\n"
        "from eigenlake.remote.client import RemoteClient\n"
        "client = eigenlake.connect(url='http://127.0.0.1:9')\n"
        "assert isinstance(client, RemoteClient)\n"
        "client.close()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(res.stdout)
    assert "eigenlake.remote.client" in loaded
    bad = [
        m
        for m in loaded
        if m == "eigenlake.embedded"
        or m.startswith("eigenlake.embedded.")
        or m == "eigenlake._core"
        or m in ("sqlite3", "_sqlite3")
    ]
    assert bad == []


def _imported(path: Path) -> list[str]:
    """Every module an import statement of ``path`` names (anywhere in the file), with
    relative imports resolved against ``eigenlake.<package>``."""
    package = f"eigenlake.{path.parent.name}"
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append(module)
            # ``from .. import _core`` names the module in the alias
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def test_remote_and_api_import_nothing_of_embedded_core_or_distributed() -> None:
    files = sorted((PACKAGE / "remote").glob("*.py")) + sorted((PACKAGE / "api").glob("*.py"))
    assert len(files) > 4
    bad = []
    for path in files:
        for module in _imported(path):
            parts = module.split(".")
            if parts[0] == "eigenlake" and len(parts) > 1 and parts[1] in FORBIDDEN:
                bad.append(f"{path.parent.name}/{path.name}: {module}")
    assert bad == []
