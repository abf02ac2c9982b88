import os
import subprocess
import sys

import pytest

import eigenlake


def test_build_info_reports_simd_and_threads() -> None:
    info = eigenlake.build_info()
    assert info["simd"] in {"scalar", "avx2", "avx512", "neon"}
    assert info["num_threads"] >= 1


def test_set_num_threads_round_trip() -> None:
    from eigenlake import _core

    before = _core.num_threads()
    eigenlake.set_num_threads(1)
    assert _core.num_threads() == 1
    eigenlake.set_num_threads(before)
    assert _core.num_threads() == before


def _worker_cpus(env: dict[str, str]) -> list[str]:
    """``pinned_threads`` and the allowed-CPU list of each pool worker, from a fresh process
    (workers name and then pin themselves as they start, so it waits up to 2 s for that)."""
    code = (
        "import os, time, eigenlake\n"
        "info = eigenlake.build_info()\n"
        "n, pinned = info['num_threads'], info['pinned_threads']\n"
        "for _ in range(200):\n"
        "    out = []\n"
        "    for t in os.listdir('/proc/self/task'):\n"
        "        with open(f'/proc/self/task/{t}/comm') as f:\n"
        "            if not f.read().startswith('eigenlake-'):\n"
        "                continue\n"
        "        with open(f'/proc/self/task/{t}/status') as f:\n"
        "            out += [ln.split(':')[1].strip() for ln in f if ln.startswith('Cpus_allowed_l')]\n"
        "    one_each = all(c.isdigit() for c in out)\n"
        "    if len(out) == n and (one_each or not pinned):\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "print(pinned, *sorted(out))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.split()


def _own_cpus() -> str:
    with open("/proc/self/status") as f:
        return next(ln.split(":")[1].strip() for ln in f if ln.startswith("Cpus_allowed_list"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU affinity is read from /proc")
def test_workers_pinned_one_cpu_each_unless_turned_off() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    n = len(allowed)
    pinned = _worker_cpus({"EIGENLAKE_NUM_THREADS": str(n)})
    assert pinned == ["True"] + sorted(str(c) for c in allowed)
    own = _own_cpus()
    free = _worker_cpus({"EIGENLAKE_NUM_THREADS": str(n), "EIGENLAKE_PIN_THREADS": "0"})
    assert free == ["False"] + [own] * n
    # a pool smaller or larger than the CPU set is left to the OS (processes sharing a
    # machine would otherwise all pin to the same CPUs)
    for m in {max(n - 1, 1), n + 1} - {n}:
        assert _worker_cpus({"EIGENLAKE_NUM_THREADS": str(m)}) == ["False"] + [own] * m
