"""Create-time checks of an index's settings: names, dimensions, schema, index options.

The embedded ``create_or_get``, the remote client and the server's get-or-create route all
call these, so a setting EigenLake cannot use is refused when the index is created, with a
``ValidationError`` naming it, not at the first write or search (or as a 5xx).

Bounds:

- Names (API.md "Names"): namespace and index names are 1 to ``MAX_NAME_LENGTH`` (128)
  characters of ASCII letters, digits, ``_``, ``-`` and ``.``, not starting with ``.``: they
  are directory names and URL path segments as they are. A leading dot is left to
  EigenLake's own entries (the tombs of dropped indexes). Checked when an index is
  created; an index made earlier under another name still opens and drops.
- ``dimensions``: an integer in 1..``MAX_DIMENSIONS`` (65,536, Qdrant's limit too; the
  cache allocates ``dimensions`` floats per row up front). The server's model uses the
  same constant.
- ``index_options["hnsw"]``: ``m`` in 2..256 (the core's graph accepts exactly these),
  ``ef_construction`` and ``ef_search`` in 1..``MAX_EF`` (4,096: beyond that a build or a
  query costs more than an exact scan of a large index).
- ``index_options["exact_threshold"]``: an integer >= 0.
- ``index_options["distance_metric"]``: ``"cosine"`` or ``"euclidean"``.
- ``index_options["metadataConfiguration"]["nonFilterableMetadataKeys"]``: a list of
  property names.
- ``index_options["embedder"]``: ``{"model": NAME, "field": PROPERTY}``, ``NAME`` a
  registered embedder (``eigenlake.embed.names()``; checked by name, the model is not
  loaded), ``PROPERTY`` the string property embedded when a record comes without a vector
  (``api.embedding``). A schema that declares ``PROPERTY`` must declare it a string.

Booleans are never taken for integers (``dimensions=True`` is a mistake, not 1). Other
``index_options`` keys are passed through untouched (clients may send options of the
hosted service).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ValidationError
from ..schema import check_schema, describe_value, is_utf8
from .checks import MAX_INT
from .embedding import check_option as check_embedder

MAX_NAME_LENGTH = 128
MAX_DIMENSIONS = 65_536
MAX_EF = 4096
MAX_SHARDS = 1024
METRICS = ("cosine", "euclidean")
# (lowest, highest) of each index_options["hnsw"] setting
HNSW_BOUNDS = {"m": (2, 256), "ef_construction": (1, MAX_EF), "ef_search": (1, MAX_EF)}

_NAME_CHARS = re.compile(r"[A-Za-z0-9_.\-]+", re.ASCII)
_BAD_CHAR = re.compile(r"[^A-Za-z0-9_.\-]", re.ASCII)


def check_name(kind: str, name: Any) -> str:
    """A namespace or index name under the rule above (``kind`` names it in the message)."""
    if not isinstance(name, str):
        raise ValidationError(f"{kind} must be a string, got {type(name).__name__}")
    if not name:
        raise ValidationError(f"{kind} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{kind} is too long: {len(name)} characters, at most {MAX_NAME_LENGTH}"
        )
    if _NAME_CHARS.fullmatch(name) is None:
        bad = _BAD_CHAR.search(name)
        shown = describe_value(bad.group() if bad else name)
        raise ValidationError(
            f"{kind} {describe_value(name)} contains {shown}: names are letters, digits, "
            "'_', '-' and '.'"
        )
    if name.startswith("."):
        raise ValidationError(f"{kind} {name!r} must not start with '.'")
    return name


def check_dimensions(dimensions: Any) -> int:
    if isinstance(dimensions, bool) or not isinstance(dimensions, int):
        raise ValidationError(
            f"dimensions must be an integer, got {type(dimensions).__name__} "
            f"{describe_value(dimensions)}"
        )
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise ValidationError(
            f"dimensions must be between 1 and {MAX_DIMENSIONS:,}, got {describe_value(dimensions)}"
        )
    return dimensions


def _int_in(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{name} must be an integer from {low} to {high:,}, got {describe_value(value)}"
        )


def check_index_options(options: Any) -> None:
    """The options EigenLake reads, checked as they will be read (see the module notes)."""
    if options is None:
        return
    if not isinstance(options, dict):
        raise ValidationError(
            f"index_options must be an object (a dict), got {type(options).__name__}"
        )
    metric = options.get("distance_metric", "cosine")
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValidationError(
            f"index_options.distance_metric must be one of {list(METRICS)}, got "
            f"{describe_value(metric)}"
        )
    hnsw = options.get("hnsw")
    if hnsw is not None:
        if not isinstance(hnsw, dict):
            raise ValidationError(
                f"index_options.hnsw must be an object, got {describe_value(hnsw)}"
            )
        unknown = sorted(str(k) for k in set(hnsw) - set(HNSW_BOUNDS))
        if unknown:
            raise ValidationError(
                f"index_options.hnsw: unknown key(s) {unknown}; known: {sorted(HNSW_BOUNDS)}"
            )
        for key, value in hnsw.items():
            _int_in(f"index_options.hnsw.{key}", value, *HNSW_BOUNDS[key])
    if "exact_threshold" in options:
        _int_in("index_options.exact_threshold", options["exact_threshold"], 0, MAX_INT)
    check_embedder(options.get("embedder"))
    meta = options.get("metadataConfiguration")
    if meta is not None:
        if not isinstance(meta, dict):
            raise ValidationError(
                f"index_options.metadataConfiguration must be an object, got {describe_value(meta)}"
            )
        keys = meta.get("nonFilterableMetadataKeys")
        if keys is not None and (
            not isinstance(keys, list) or not all(isinstance(k, str) and is_utf8(k) for k in keys)
        ):
            raise ValidationError(
                "index_options.metadataConfiguration.nonFilterableMetadataKeys must be a "
                f"list of property names, got {describe_value(keys)}"
            )


def check_create(
    *,
    dimensions: Any,
    schema: Any,
    index_options: Any,
    shard_count: Any = 1,
    record_id_property: Any = None,
) -> None:
    """Everything ``create_or_get`` takes except the names (checked when the index is new,
    so an index named before the rule can still be got)."""
    check_dimensions(dimensions)
    if schema is not None:
        check_schema(schema)
    check_index_options(index_options)
    if isinstance(index_options, dict) and index_options.get("embedder") is not None:
        _check_embedded_field(index_options["embedder"]["field"], schema)
    _int_in("shard_count", shard_count, 1, MAX_SHARDS)
    if record_id_property is not None and (
        not isinstance(record_id_property, str)
        or not record_id_property
        or not is_utf8(record_id_property)
    ):
        raise ValidationError(
            "record_id_property must be a property name or None, got "
            f"{describe_value(record_id_property)}"
        )


def _check_embedded_field(field: str, schema: dict[str, Any] | None) -> None:
    """The embedder's ``field`` against the schema: a declared property must be a string;
    a closed schema must declare it."""
    if not schema:
        return
    fragment = (schema.get("properties") or {}).get(field)
    if fragment is None:
        if schema.get("additionalProperties", True) is False:
            raise ValidationError(
                f"index_options.embedder.field {field!r} is not a property of the schema"
                " (additionalProperties is false): declare it as a string"
            )
        return
    typ = fragment.get("type") if isinstance(fragment, dict) else None
    types = typ if isinstance(typ, list) else [typ]
    if "string" not in types:
        raise ValidationError(
            f"index_options.embedder.field {field!r} must be a string property; the schema"
            f" declares it {describe_value(typ)}"
        )
