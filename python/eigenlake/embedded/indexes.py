"""``client.indexes``: create, open, reference, list and delete indexes under one root.

Layout: ``<root>/<namespace>/<index>/index.sqlite`` (names percent-encoded so any string is
a safe directory name). The settings live in the index's own database (``meta.settings``).
"""

from __future__ import annotations

import copy
import os
import shutil  # noqa: F401  (tests patch ``indexes.shutil.rmtree``; the drop is store.py's)
import threading
import time
from typing import Any
from urllib.parse import quote, unquote

from ..api.options import check_name
from ..api.protocols import Indexes as IndexesSurface
from ..errors import ConflictError, NotFoundError, StorageError, ValidationError
from ..schema import describe_value
from . import ann
from .index import DB_FILE, Index
from .row_codes import quantized_scan
from .store import TOMB_PREFIX, check_no_leftovers, drop_index_dir
from .store import create as create_db
from .validate import CompiledSchema

_METRICS = ("cosine", "euclidean")


# What a file system allows in one directory name (bytes); longer names cannot exist.
NAME_MAX = 255


def _segment(kind: str, name: Any, *, creating: bool = False) -> str:
    # the names rule (api.options.check_name) applies on create only: an index made before it
    # can still be opened and dropped
    if creating:
        check_name(kind, name)
    elif not isinstance(name, str) or not name:
        raise ValidationError(f"{kind} must be a non-empty string, got {describe_value(name)}")
    try:
        seg = quote(name, safe="")
    except UnicodeEncodeError:  # a lone surrogate: no directory (or URL) can hold it
        raise ValidationError(f"{kind} {describe_value(name)} is not valid Unicode") from None
    if seg in (".", ".."):
        seg = seg.replace(".", "%2E")
    if len(seg) > NAME_MAX:  # no directory can hold it, so no index (old or new) has it
        raise NotFoundError(f"{kind} {describe_value(name)} does not exist (name too long)")
    return seg


class Indexes(IndexesSurface[Index]):
    """``client.indexes``; ``create_or_get`` is written once in ``api.protocols.Indexes``
    over ``_create_or_get``."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._open: dict[tuple[str, str], Index] = {}
        self._lock = threading.Lock()

    def _dir(self, namespace: str, index: str, *, creating: bool = False) -> str:
        return os.path.join(
            self._root,
            _segment("namespace", namespace, creating=creating),
            _segment("index", index, creating=creating),
        )

    def _get(self, namespace: str, index: str) -> Index:
        key = (namespace, index)
        with self._lock:
            idx = self._open.get(key)
            if idx is None or idx.dropped:
                idx = Index(self._dir(namespace, index), namespace, index)
                self._open[key] = idx
            return idx

    def _create_or_get(self, namespace: str, index: str, **settings: Any) -> Index:
        # the settings were refused before anything touches the disk (the names: below, when
        # the index is new)
        wanted = _settings(namespace, index, **settings)
        directory = self._dir(namespace, index)
        if not os.path.isdir(directory):
            self._dir(namespace, index, creating=True)  # a new name must fit a directory
        try:
            os.makedirs(directory, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a file where a directory goes
            blocker = next(
                (
                    p
                    for p in (os.path.dirname(directory), directory)
                    if os.path.lexists(p) and not os.path.isdir(p)
                ),
                directory,
            )
            raise StorageError(
                f"cannot create index {namespace}/{index}: {blocker} is a file, not a"
                " directory (move it out of the store's directory)",
                filename=blocker,
            ) from None
        db_path = os.path.join(directory, DB_FILE)
        if not os.path.exists(db_path):
            # never create over the remains of an index whose database went missing
            check_no_leftovers(directory, db_path)
            create_db(db_path, wanted)
        # opened in full (settings, rows): a damaged index raises StorageError here too
        idx = self._get(namespace, index)
        with idx.reading() as view:
            _check_compatible(view.config, wanted, settings["schema"] is not None)
        return idx

    def open(self, *, namespace: str, index: str) -> Index:
        idx = self._get(namespace, index)
        with idx.reading():  # opens it and loads its rows: a damaged index raises here
            pass
        return idx

    def ref(self, *, namespace: str, index: str) -> Index:
        """An index handle without touching the disk; errors surface on first use."""
        return self._get(namespace, index)

    def delete(self, *, namespace: str, index: str, **_: Any) -> dict[str, Any]:
        return self._get(namespace, index).manage.delete()

    def list(self) -> list[dict[str, str]]:
        """``[{"namespace", "index"}]`` of every index under the root."""
        out: list[dict[str, str]] = []
        if not os.path.isdir(self._root):
            return out
        for ns in sorted(os.listdir(self._root)):
            ns_dir = os.path.join(self._root, ns)
            if not os.path.isdir(ns_dir):
                continue
            for name in sorted(os.listdir(ns_dir)):
                if name.startswith(TOMB_PREFIX):  # being dropped (or a drop's leftovers)
                    continue
                if os.path.exists(os.path.join(ns_dir, name, DB_FILE)):
                    out.append({"namespace": unquote(ns), "index": unquote(name)})
        return out

    def close(self) -> None:
        with self._lock:
            for idx in self._open.values():
                idx.close()
            self._open.clear()


def _settings(
    namespace: str,
    index: str,
    dimensions: Any,
    schema: dict[str, Any] | None,
    index_options: dict[str, Any] | None,
    shard_count: int,
    record_id_property: str | None,
) -> dict[str, Any]:
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise ValidationError(f"dimensions must be a positive integer, got {dimensions!r}")
    if schema is not None and not isinstance(schema, dict):
        raise ValidationError("schema must be a JSON-Schema dict")
    options = copy.deepcopy(index_options or {})
    metric = options.get("distance_metric", "cosine")
    if metric not in _METRICS:
        raise ValidationError(f"distance_metric must be one of {list(_METRICS)}, got {metric!r}")
    ann.hnsw_params(options)  # fail early on graph settings we cannot use
    ann.exact_threshold(options)
    ann.ann_enabled(options)
    quantized_scan(options)
    if schema is not None:
        CompiledSchema(schema, [])  # fail early on a schema we cannot use
    return {
        "namespace": namespace,
        "index": index,
        "dimensions": dimensions,
        "schema": copy.deepcopy(schema),
        "index_options": options,
        "distance_metric": metric,
        "shard_count": shard_count,
        "record_id_property": record_id_property,
        "created_at": time.time(),
    }


def _check_compatible(current: dict[str, Any], wanted: dict[str, Any], has_schema: bool) -> None:
    where = f"index {wanted['namespace']}/{wanted['index']}"
    if current["dimensions"] != wanted["dimensions"]:
        raise ConflictError(
            f"{where} exists with {current['dimensions']} dimensions, not {wanted['dimensions']}"
        )
    if current.get("distance_metric") != wanted["distance_metric"]:
        raise ConflictError(f"{where} exists with metric {current.get('distance_metric')!r}")
    if not has_schema:
        return
    have, want = current.get("schema") or {}, wanted["schema"] or {}
    have_props, want_props = have.get("properties", {}), want.get("properties", {})
    same = (
        have.get("additionalProperties", True) == want.get("additionalProperties", True)
        and set(have.get("required", [])) == set(want.get("required", []))
        # properties added later by update are allowed on top of the created ones
        and all(have_props.get(k) == v for k, v in want_props.items())
        and _non_filterable(current) == _non_filterable(wanted)
    )
    if not same:
        raise ConflictError(f"{where} exists with an incompatible schema")


def _non_filterable(settings: dict[str, Any]) -> set[str]:
    meta = (settings.get("index_options") or {}).get("metadataConfiguration") or {}
    return set(meta.get("nonFilterableMetadataKeys") or [])


__all__ = ["Indexes", "NotFoundError", "TOMB_PREFIX", "drop_index_dir"]
