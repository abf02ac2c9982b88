"""Run `eigenlake serve` as a child process (tests, benchmarks, notebooks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """``with ServerProcess(path) as srv: connect(url=srv.url)``; stopped by SIGTERM on exit."""

    def __init__(
        self,
        path: str | Path,
        *,
        port: int | None = None,
        api_key: str | None = None,
        extra_args: list[str] | None = None,
        log_file: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.path = str(path)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.extra_args = list(extra_args or [])
        self.log_file = log_file
        self.env = env  # extra environment (e.g. PYTHONPATH of another tree, for A/B runs)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        cmd = [sys.executable, "-m", "eigenlake.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--path", self.path, "--log-level", "warning"]
        cmd += self.extra_args
        env = dict(os.environ)
        env.pop("EIGENLAKE_API_KEY", None)
        env.update(self.env or {})
        if self.api_key:
            env["EIGENLAKE_API_KEY"] = self.api_key
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} before ready")
            try:
                if httpx.get(f"{self.url}/v1/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
