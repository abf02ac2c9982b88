"""Run every benchmark script (`benches/bench_*.py`) and gather their results.

Each script writes its own `benches/results/<area>.md`; this collects them, with the
machine's description, into `benches/RESULTS.md`. Peers are installed from
`benches/requirements-*.txt` into the current environment first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    for req in sorted(HERE.glob("requirements-*.txt")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(req)], check=True)
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(script.name)
    subprocess.run([sys.executable, str(HERE / "collect_results.py")], check=True)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
