"""Embedders by name: one interface, ``embedder(list[str]) -> np.ndarray (n, dim) float32``.

Built-ins ("all-MiniLM-L6-v2", "protein-kmer") are built on first ``get`` and kept, so a
model is loaded once per process; ``register`` adds any callable of that shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from threading import Lock

import numpy as np

from ..errors import NotFoundError, ValidationError

Embedder = Callable[[Sequence[str]], np.ndarray]

_registered: dict[str, Embedder] = {}
_builders: dict[str, Callable[[], Embedder]] = {}
_lock = Lock()


def check_texts(texts: object, what: str = "texts") -> list[str]:
    """``texts`` as a list of str; ValidationError naming the first bad position otherwise."""
    # A lone string is a sequence of characters: embedding each letter is never what was meant.
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise ValidationError(f"{what} must be a list of str, got {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValidationError(f"{what}[{i}] must be a str, got {type(t).__name__}")
    return list(texts)


def register(name: str, fn: Embedder, *, replace: bool = False) -> None:
    """Make ``fn`` available as ``get(name)``; an existing name needs ``replace=True``."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"embedder name must be a non-empty str, got {name!r}")
    if not callable(fn):
        raise ValidationError(f"embedder {name!r} must be callable, got {type(fn).__name__}")
    with _lock:
        if not replace and (name in _registered or name in _builders):
            raise ValidationError(f"embedder {name!r} is already registered; pass replace=True")
        _builders.pop(name, None)
        _registered[name] = fn


def register_builtin(name: str, build: Callable[[], Embedder]) -> None:
    """A built-in embedder, built by ``build()`` the first time it is asked for."""
    with _lock:
        _builders[name] = build


def get(name: str) -> Embedder:
    """The embedder registered as ``name``; NotFoundError lists the names there are."""
    with _lock:
        fn = _registered.get(name)
        build = _builders.get(name) if fn is None else None
    if fn is not None:
        return fn
    if build is None:
        raise NotFoundError(f"no embedder named {name!r}; registered: {', '.join(names())}")
    built = build()  # outside the lock: loading a model takes a while
    with _lock:
        # Two threads may both build; the first to finish wins and both get it.
        fn = _registered.setdefault(name, built)
        _builders.pop(name, None)
    return fn


def names() -> list[str]:
    """Every registered name, built or not, sorted."""
    with _lock:
        return sorted(set(_registered) | set(_builders))


def unregister(name: str) -> None:
    """Forget ``name`` (built-ins included); NotFoundError if there is none."""
    with _lock:
        if _registered.pop(name, None) is None and _builders.pop(name, None) is None:
            raise NotFoundError(f"no embedder named {name!r}")
