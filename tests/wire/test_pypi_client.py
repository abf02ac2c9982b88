"""Wire compatibility: the PyPI client (eigenlake 0.2.3) drives our server unchanged.

The client lives in its own venv (same package name as ours), cached across runs in
$EIGENLAKE_WIRE_VENV or ~/.cache/eigenlake/wire-0.2.3. Skipped only if PyPI is unreachable.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eigenlake.server.process import ServerProcess

VERSION = "0.2.3"
SCRIPT = Path(__file__).with_name("pypi_client_script.py")


def _venv() -> Path:
    root = Path(
        os.environ.get("EIGENLAKE_WIRE_VENV")
        or Path.home() / ".cache" / "eigenlake" / f"wire-{VERSION}"
    )
    py = root / "bin" / "python"
    probe = [
        str(py),
        "-c",
        f"import eigenlake, sys; sys.exit(eigenlake.__version__ != {VERSION!r})",
    ]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    pip = subprocess.run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            f"eigenlake=={VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if pip.returncode != 0:
        pytest.skip(
            f"cannot install eigenlake=={VERSION} from PyPI (offline?): {pip.stderr[-300:]}"
        )
    return py


@pytest.mark.timeout(600)
def test_pypi_client_against_server(tmp_path: Path) -> None:
    pytest.importorskip("eigenlake.embedded.client", reason="embedded store not available")
    py = _venv()
    # Until the analysis modules are in this build, their calls are left out (not faked).
    have = all(
        importlib.util.find_spec(m) for m in ("eigenlake.analysis.cluster", "eigenlake.agent")
    )
    extra = [] if have else ["no-analysis"]
    with ServerProcess(
        tmp_path / "store", api_key="wire-key", log_file=tmp_path / "server.log"
    ) as srv:
        run = subprocess.run(
            [str(py), "-I", str(SCRIPT), srv.url, "wire-key", *extra],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # with -I: our package (PYTHONPATH, cwd) stays off its sys.path
        )
    log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- server log ---\n{log}"
    assert "WIRE OK" in run.stdout
