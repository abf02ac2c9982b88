"""Cooperative cancellation (``analysis.cancel``): a set token stops the auto-tune loops at
their next safe point; without a token nothing changes."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from eigenlake.analysis import autotune, cancel, topics
from eigenlake.analysis.cluster import run_cluster
from eigenlake.analysis.snapshot import Snapshot
from eigenlake.analysis.topics import run_topics
from eigenlake.errors import EigenlakeError

KS = range(2, 10)


def blobs(n_per: int = 40, groups: int = 4, dim: int = 12, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.vstack([np.eye(dim)[g] + 0.1 * rng.standard_normal((n_per, dim)) for g in range(groups)])
    x = x.astype(np.float32)
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True))


def snap(x: np.ndarray) -> Snapshot:
    words = ["kinase", "toxin", "lectin", "globin"]
    meta = [{"text": f"{words[i % 4]} protein {words[i % 4]} site"} for i in range(len(x))]
    return Snapshot(uuids=[f"u{i}" for i in range(len(x))], vectors=x, metadata=meta)


class Counted:
    """Wraps a k-means function; counts calls and sets ``token`` at call ``set_at``."""

    def __init__(self, fn: Any, token: threading.Event | None = None, set_at: int = 0) -> None:
        self.fn, self.token, self.set_at, self.calls = fn, token, set_at, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.token is not None and self.calls == self.set_at:
            self.token.set()  # the client leaves while this k runs
        return self.fn(*args, **kwargs)


def test_check_is_a_no_op_without_a_token_or_with_an_unset_one() -> None:
    cancel.check()
    with cancel.scope(None):
        cancel.check()
    with cancel.scope(threading.Event()):
        cancel.check()


def test_scope_sets_and_restores_the_token() -> None:
    token = threading.Event()
    token.set()
    with cancel.scope(token):
        with cancel.scope(threading.Event()):
            cancel.check()  # the inner scope's token is the current one, and it is unset
        with cancel.scope(None):
            cancel.check()  # an inner scope without a token is not cancellable
        with pytest.raises(cancel.Cancelled):
            cancel.check()  # the outer token is back
    cancel.check()  # and gone after the scope


def test_cancelled_is_an_eigenlake_error_answered_499() -> None:
    exc = cancel.Cancelled("gone")
    assert isinstance(exc, EigenlakeError) and exc.status_code == 499


def test_the_token_is_per_thread() -> None:
    token = threading.Event()
    token.set()
    seen: list[BaseException | None] = []

    def other() -> None:
        try:
            cancel.check()
            seen.append(None)
        except cancel.Cancelled as exc:
            seen.append(exc)

    with cancel.scope(token):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == [None]  # a plain thread does not inherit the scope


def test_pick_k_with_a_set_token_runs_no_k(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(autotune.kmeans)
    monkeypatch.setattr(autotune, "kmeans", counted)
    token = threading.Event()
    token.set()
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        autotune.pick_k(blobs(), KS, "cosine", 50, 0)
    assert counted.calls <= 1


@pytest.mark.parametrize("set_at", [1, 2, 5])
def test_pick_k_stops_after_the_k_during_which_the_token_was_set(
    monkeypatch: pytest.MonkeyPatch, set_at: int
) -> None:
    token = threading.Event()
    counted = Counted(autotune.kmeans, token, set_at)
    monkeypatch.setattr(autotune, "kmeans", counted)
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        autotune.pick_k(blobs(), KS, "cosine", 50, 0)
    assert counted.calls == set_at  # the k that was running finishes; no further k starts


def test_run_cluster_auto_tune_with_a_set_token_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(autotune.kmeans)
    monkeypatch.setattr(autotune, "kmeans", counted)
    token = threading.Event()
    token.set()
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        run_cluster(snap(blobs()), auto_tune=True, min_clusters=2, max_clusters=9)
    assert counted.calls <= 1


def test_results_unchanged_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    x = blobs()
    args: dict[str, Any] = {"auto_tune": True, "min_clusters": 2, "max_clusters": 9}
    plain = run_cluster(snap(x), **args)
    with cancel.scope(threading.Event()):  # a token that is never set
        scoped = run_cluster(snap(x), **args)
    assert scoped == plain
    assert plain["parameters"]["num_clusters"] == 4
    assert [s["num_clusters"] for s in plain["parameters"]["scores"]] == list(range(2, 10))
    counted = Counted(autotune.kmeans)
    monkeypatch.setattr(autotune, "kmeans", counted)
    run_cluster(snap(x), **args)
    assert counted.calls == 8  # one k-means per k, nothing skipped


def test_auto_eps_stops_between_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    from eigenlake import _core

    x = blobs()
    _eps, _q, candidates = autotune.auto_eps(x, 5, "cosine", 0)
    assert len(candidates) >= 2
    token = threading.Event()
    counted = Counted(_core.dbscan, token, 1)
    monkeypatch.setattr(autotune._core, "dbscan", counted)
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        autotune.auto_eps(x, 5, "cosine", 0)
    assert counted.calls == 1
    token.set()
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        run_cluster(snap(x), algorithm="dbscan")


def test_topics_stop_between_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    token = threading.Event()
    counted = Counted(topics._core.kmeans, token, 2)
    monkeypatch.setattr(topics._core, "kmeans", counted)
    with pytest.raises(cancel.Cancelled), cancel.scope(token):
        run_topics(snap(blobs()), text_fields=["text"], min_topics=2, max_topics=8)
    # stopped after the second restart of the first k (of 7 ks x TUNE_RESTARTS runs)
    assert counted.calls == 2


def test_topics_unchanged_without_a_token() -> None:
    s = snap(blobs())
    plain = run_topics(s, text_fields=["text"], min_topics=2, max_topics=6)
    with cancel.scope(threading.Event()):
        scoped = run_topics(s, text_fields=["text"], min_topics=2, max_topics=6)
    assert scoped == plain
    assert len(plain["parameters"]["scores"]) == 5
