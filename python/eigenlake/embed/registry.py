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
    """Check an embedder's input: a list (or other sequence) of str.

    Parameters
    ----------
    texts : object
        The input to check; a lone str is refused (its letters are not texts).
    what : str, default "texts"
        The argument's name in the error message.

    Returns
    -------
    list of str
        ``texts`` as a new list.

    Raises
    ------
    ValidationError
        ``texts`` is not a sequence of str, naming the first bad position.

    Examples
    --------
    >>> check_texts(["a", "b"])  # doctest: +SKIP
    ['a', 'b']
    """
    # A lone string is a sequence of characters: embedding each letter is never what was meant.
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise ValidationError(f"{what} must be a list of str, got {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValidationError(f"{what}[{i}] must be a str, got {type(t).__name__}")
    return list(texts)


def register(name: str, fn: Embedder, *, replace: bool = False) -> None:
    """Make ``fn`` available as ``get(name)``.

    Parameters
    ----------
    name : str
        The embedder's name (non-empty).
    fn : callable
        ``fn(list[str]) -> np.ndarray`` of shape (n, dim), float32.
    replace : bool, default False
        Replace an embedder already registered as ``name`` (built-ins included).

    Raises
    ------
    ValidationError
        An empty name, ``fn`` not callable, or ``name`` taken without ``replace=True``.

    Examples
    --------
    >>> eigenlake.embed.register("mine", lambda texts: model.encode(texts))  # doctest: +SKIP
    """
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
    """Register a built-in embedder, built by ``build()`` the first time it is asked for.

    Unlike ``register`` it replaces any embedder of that name without asking.

    Parameters
    ----------
    name : str
        The embedder's name.
    build : callable
        ``build() -> embedder``, called once, by the first ``get(name)``.

    Examples
    --------
    >>> register_builtin("protein-kmer", protein_embedder)  # doctest: +SKIP
    """
    with _lock:
        _builders[name] = build


def get(name: str) -> Embedder:
    """The embedder registered as ``name``, built on first use (then kept).

    Parameters
    ----------
    name : str
        A registered name, e.g. ``"protein-kmer"`` or ``"all-MiniLM-L6-v2"``.

    Returns
    -------
    callable
        ``embedder(list[str]) -> np.ndarray`` of shape (n, dim), float32.

    Raises
    ------
    NotFoundError
        No embedder of that name (the message lists the names there are).
    MissingDependencyError
        A built-in whose runtime is not installed (e.g. ``eigenlake[text]``).

    Examples
    --------
    >>> x = eigenlake.embed.get("protein-kmer")(["MKTAYIAKQR"])  # doctest: +SKIP
    """
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
    """Every registered name, built or not.

    Returns
    -------
    list of str
        The names, sorted.

    Examples
    --------
    >>> eigenlake.embed.names()  # doctest: +SKIP
    ['all-MiniLM-L6-v2', 'protein-kmer']
    """
    with _lock:
        return sorted(set(_registered) | set(_builders))


def unregister(name: str) -> None:
    """Forget the embedder registered as ``name`` (built-ins included).

    Parameters
    ----------
    name : str
        A registered name.

    Raises
    ------
    NotFoundError
        No embedder of that name.

    Examples
    --------
    >>> eigenlake.embed.unregister("mine")  # doctest: +SKIP
    """
    with _lock:
        if _registered.pop(name, None) is None and _builders.pop(name, None) is None:
            raise NotFoundError(f"no embedder named {name!r}")
