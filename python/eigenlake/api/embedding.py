"""Index embedders: ``index_options={"embedder": {"model": NAME, "field": PROP}}``.

An index created with an embedder turns the ``PROP`` property of every record that comes
without a vector into one with the registered embedder ``NAME`` (``eigenlake.embed.get``),
and ``search.nearest(text=...)`` embeds its queries with the same model. This module is the
one place that does it, for every mode that holds the data: the embedded ingest (records
and tables), the sharded driver's ingest and the queries of both (a remote client sends
records and texts as they are: the server runs the embedded code).

- ``check_option`` is the create-time check (``api.options``): ``model`` a registered
  name (checked by name: the model is not loaded then), ``field`` a property name.
- ``of_config`` reads a stored index's settings: an :class:`IndexEmbedder` or None.
- ``embed_records`` / ``embed_columns`` fill the vectors a write lacks, in one embedder
  call per write (the embedder batches inside), before the vectors are checked. A record
  with neither a vector nor a string ``field`` fails, named by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..embed.registry import check_texts, get, names
from ..errors import EigenlakeError, ValidationError
from ..schema import describe_value

if TYPE_CHECKING:
    from .columns import Columns

KEYS = ("model", "field")
NO_EMBEDDER = "this index has no embedder: pass vector=..."


def check_option(value: Any) -> None:
    """``index_options["embedder"]`` as ``create_or_get`` accepts it (None: no embedder)."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValidationError(
            "index_options.embedder must be an object {'model': NAME, 'field': PROPERTY},"
            f" got {describe_value(value)}"
        )
    unknown = sorted(str(k) for k in set(value) - set(KEYS))
    if unknown:
        raise ValidationError(
            f"index_options.embedder: unknown key(s) {unknown}; known: {sorted(KEYS)}"
        )
    model = value.get("model")
    if not isinstance(model, str) or not model:
        raise ValidationError(
            "index_options.embedder.model must be the name of a registered embedder"
            f" (eigenlake.embed.names(): {names()}), got {describe_value(model)}"
        )
    if model not in names():
        raise ValidationError(
            f"index_options.embedder.model: no embedder named {model!r}; registered:"
            f" {', '.join(names())} (eigenlake.embed.register adds one)"
        )
    field = value.get("field")
    if not isinstance(field, str) or not field:
        raise ValidationError(
            "index_options.embedder.field must be the name of a string property, got"
            f" {describe_value(field)}"
        )


@dataclass(frozen=True)
class IndexEmbedder:
    """An index's embedder: the registered ``model`` applied to property ``field``."""

    model: str
    field: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """``texts`` as one (n, dimensions) float32 block (the model is loaded on first
        use, once per process); ``ValidationError`` when its vectors do not fit the index."""
        out = np.asarray(get(self.model)(texts))
        if out.ndim != 2 or out.shape[0] != len(texts) or out.shape[1] != self.dimensions:
            raise ValidationError(
                f"embedder {self.model!r} returned an array of shape {out.shape} for"
                f" {len(texts)} text(s); the index needs ({len(texts)}, {self.dimensions})"
            )
        return np.ascontiguousarray(out, dtype=np.float32)


def of_config(config: dict[str, Any]) -> IndexEmbedder | None:
    """The embedder of an index's stored settings (``meta.settings``), or None."""
    options = config.get("index_options") or {}
    spec = options.get("embedder") if isinstance(options, dict) else None
    if not isinstance(spec, dict):
        return None
    return IndexEmbedder(str(spec["model"]), str(spec["field"]), int(config["dimensions"]))


def lacks_vector(record: Any) -> bool:
    """A record dict sent without a vector (no ``vector`` key, or None)."""
    return type(record) is dict and record.get("vector") is None


def needs_embedding(records: Sequence[Any]) -> bool:
    """Whether any record of a write lacks a vector (one pass over the dicts; a write
    whose records all carry vectors pays nothing more)."""
    return any(map(lacks_vector, records))


def _where(i: int, given: Any) -> str:
    """The position ("record i"), with the id as the ingest's messages show it."""
    if given is None:
        return f"record {i}"
    shown = given if isinstance(given, str) and len(given) <= 64 else describe_value(given)
    return f"record {i} (id {shown})"


def _text_of(embedder: IndexEmbedder, value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise ValidationError(
            f"{where}: no vector, and no {embedder.field!r} property to embed one from"
            f" (the index embeds {embedder.field!r} with {embedder.model!r})"
        )
    raise ValidationError(
        f"{where}: property {embedder.field!r} must be a string to be embedded, got"
        f" {type(value).__name__} {describe_value(value)}"
    )


def embed_records(
    embedder: IndexEmbedder | None,
    records: list[Any],
    on_error: str,
    failed: dict[int, EigenlakeError],
) -> list[Any]:
    """``records`` with a vector embedded for each dict that has none (copies; the caller's
    dicts are left alone). Without an embedder they are returned as they are (the vector
    check then says "record i: vector is missing"). A record with neither a vector nor a
    string ``field`` raises, or with ``on_error="continue"`` goes to ``failed`` (kept
    without a vector: it is never stored)."""
    if embedder is None:
        return records
    positions: list[int] = []
    texts: list[str] = []
    for i, rec in enumerate(records):
        if not lacks_vector(rec):
            continue
        props = rec.get("properties")
        value = props.get(embedder.field) if isinstance(props, dict) else None
        try:
            texts.append(_text_of(embedder, value, _where(i, rec.get("id", rec.get("uuid")))))
        except ValidationError as e:
            if on_error == "raise":
                raise
            failed[i] = e
            continue
        positions.append(i)
    if not positions:
        return records
    vectors = embedder.embed(texts)
    out = list(records)
    for i, row in zip(positions, vectors, strict=True):
        out[i] = {**records[i], "vector": row}
    return out


def embed_columns(
    embedder: IndexEmbedder | None,
    columns: Columns,
    on_error: str,
    failed: dict[int, EigenlakeError],
    ids: list[Any] | None = None,
) -> Columns:
    """``embed_records`` for a table: the rows without a vector get one from the column
    ``field``. A table without a vector column and an index without an embedder raises
    the table's own message (``Columns.absent_vectors``)."""
    if columns.vectors is not None:
        return columns
    items = columns.vector_items or []
    missing = [i for i, v in enumerate(items) if v is None]
    absent = columns.absent_vectors
    if embedder is None:
        if absent is not None:
            raise ValidationError(absent)
        return columns
    if not missing:
        return columns
    col = next((c for c in columns.properties if c.name == embedder.field), None)
    values = col.python() if col is not None else [None] * columns.n
    positions: list[int] = []
    texts: list[str] = []
    for i in missing:
        where = _where(i, None if ids is None else ids[i])
        try:
            texts.append(_text_of(embedder, values[i], where))
        except ValidationError as e:
            if on_error == "raise":
                raise
            failed[i] = e
            continue
        positions.append(i)
    if not positions:
        return columns
    vectors = embedder.embed(texts)
    if len(positions) == columns.n:  # every row embedded: one block, the fast path
        columns.vectors = vectors
        columns.vector_items = None
        return columns
    filled = list(items)
    for i, row in zip(positions, vectors, strict=True):
        filled[i] = row
    columns.vector_items = filled
    return columns


def query_texts(text: Any) -> list[str]:
    """``nearest(text=...)``: one str, or a non-empty list of them (a batch)."""
    if isinstance(text, str):
        return [text]
    if isinstance(text, (list, tuple)) and not text:
        raise ValidationError("text is an empty list: pass a str or a list of str")
    return check_texts(text, "text")


def embed_queries(embedder: IndexEmbedder | None, texts: list[str]) -> np.ndarray:
    """The queries' vectors, (q, d) float32; ``ValidationError`` without an embedder."""
    if embedder is None:
        raise ValidationError(NO_EMBEDDER)
    return embedder.embed(texts)
