"""``eigenlake import`` / ``eigenlake export``: records from and to Parquet, CSV, JSONL, NPY.

Import streams the file in batches (each one ``records.add_many`` call, durable when it
returns), so a file larger than memory imports; the index is created on the first batch
when missing, with the vectors' length. Formats, by suffix:

- ``.parquet`` / ``.csv``: one row per record; the vector column (``--vector-column``,
  default ``vector``) holds a list of numbers (in CSV: JSON text such as ``[0.1, 0.2]``);
  ``--id-column`` names the id column; every other column is a property.
- ``.jsonl``: one JSON object per line, either a record ``{"properties", "vector", "id"?}``
  or a flat row as above.
- ``.npy``: a 2-D float array, one vector per row (records without properties); on export
  the uuids go to ``FILE.ids.txt`` beside it, one per line, in the same order.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..api.columns import require
from ._store import add_store_args, connect

FORMATS = (".parquet", ".csv", ".jsonl", ".npy")
BATCH = 10_000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser(
        "import",
        help="add records from a .parquet, .csv, .jsonl or .npy file",
        description=__doc__,
        epilog="examples:\n"
        "  eigenlake import docs.parquet --path ./store --namespace ns --index docs\n"
        "  eigenlake import rows.csv --url http://localhost:8000 --namespace ns --index docs"
        " --vector-column embedding --id-column doc_id",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", help="the file to read (format from its suffix)")
    add_store_args(imp, index=True)
    imp.add_argument("--vector-column", default="vector", help="default: vector")
    imp.add_argument("--id-column", default=None, help="the column holding record ids")
    imp.add_argument(
        "--on-duplicate",
        default="error",
        choices=("error", "replace", "skip"),
        help="when a record id is already stored (default: error)",
    )
    imp.add_argument(
        "--metric",
        default="cosine",
        choices=("cosine", "euclidean"),
        help="for a new index (default: cosine)",
    )
    imp.add_argument("--batch-size", type=int, default=BATCH, help=f"rows a call (default {BATCH})")
    _progress_args(imp)
    imp.set_defaults(run=run_import)

    exp = sub.add_parser(
        "export",
        help="write an index's records to a .parquet, .csv, .jsonl or .npy file",
        description=__doc__,
        epilog="examples:\n"
        "  eigenlake export --path ./store --namespace ns --index docs docs.parquet\n"
        "  eigenlake export --path ./store --namespace ns --index docs vectors.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_args(exp, index=True)
    exp.add_argument("file", help="the file to write (format from its suffix)")
    exp.add_argument("--filter", default=None, help="a JSON filter, e.g. '{\"year\": 2024}'")
    _progress_args(exp)
    exp.set_defaults(run=run_export)


def _progress_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )


def _format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown format {suffix or '(no suffix)'}; use one of {FORMATS}")
    return suffix


def _bar(args: argparse.Namespace, total: int | None, unit: str) -> Any:
    from tqdm import tqdm

    show = sys.stderr.isatty() if args.progress is None else bool(args.progress)
    return tqdm(total=total, unit=unit, disable=not show, file=sys.stderr, unit_scale=True)


# ---- import -----------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    fmt = _format(args.file)
    if not Path(args.file).is_file():
        raise FileNotFoundError(f"{args.file}: no such file")
    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    batches, total = _read_batches(fmt, args)
    stored = failed = 0
    with connect(args) as client, _bar(args, total, "rec") as bar:
        index = None
        for batch, dims in batches:
            if index is None:
                index = client.indexes.create_or_get(
                    namespace=args.namespace,
                    index=args.index,
                    dimensions=dims,
                    index_options={"distance_metric": args.metric},
                )
            result = _add(index, batch, args)
            stored += len(result)
            failed += result.number_errors
            bar.update(len(result) + result.number_errors + len(getattr(result, "skipped", [])))
    print(f"imported {stored:,} records into {args.namespace}/{args.index}", file=sys.stderr)
    return 0 if failed == 0 else 1


def _add(index: Any, batch: Any, args: argparse.Namespace) -> Any:
    if isinstance(batch, np.ndarray):
        return index.records.add_vectors(batch)
    if isinstance(batch, list):  # JSONL records {"properties", "vector", "id"?}
        return index.records.add_many(batch, on_duplicate=args.on_duplicate)
    return index.records.add_many(
        batch,
        vector_column=args.vector_column,
        id_column=args.id_column,
        on_duplicate=args.on_duplicate,
        progress=False,
    )


def _read_batches(
    fmt: str, args: argparse.Namespace
) -> tuple[Iterator[tuple[Any, int]], int | None]:
    """(batches of (data, dimensions), total rows when known)."""
    size = int(args.batch_size)
    if fmt == ".npy":
        x = np.load(args.file, mmap_mode="r")  # read batch by batch, never whole
        if x.ndim != 2:
            raise ValueError(f"{args.file}: expected a 2-D array (one vector a row), got {x.shape}")
        return ((np.asarray(x[i : i + size]), x.shape[1]) for i in range(0, len(x), size)), len(x)
    if fmt == ".jsonl":
        return _jsonl_batches(args.file, size, args.vector_column, args.id_column), None
    pa = require("pyarrow", 'pip install "eigenlake[arrow]"', "this format")
    if fmt == ".parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(args.file)
        batches = (pa.Table.from_batches([b]) for b in f.iter_batches(batch_size=size))
        total: int | None = f.metadata.num_rows
    else:
        import pyarrow.csv as pacsv

        reader = pacsv.open_csv(args.file, read_options=pacsv.ReadOptions(block_size=1 << 22))
        batches = (_csv_vectors(pa.Table.from_batches([b]), args.vector_column) for b in reader)
        total = None
    return ((t, _dims(t, args.vector_column, args.file)) for t in batches if t.num_rows), total


def _dims(table: Any, column: str, path: str) -> int:
    if column not in table.column_names:
        raise ValueError(f"{path}: no column {column!r} (pass --vector-column)")
    first = table.column(column)[0].as_py()
    if not isinstance(first, (list, tuple)) or not first:
        raise ValueError(f"{path}: column {column!r} does not hold vectors (lists of numbers)")
    return len(first)


def _csv_vectors(table: Any, column: str) -> Any:
    """A CSV's vector column is JSON text: parsed into lists of numbers."""
    import pyarrow as pa

    if column not in table.column_names or not pa.types.is_string(table.schema.field(column).type):
        return table
    parsed = [None if v is None else json.loads(v) for v in table.column(column).to_pylist()]
    at = table.column_names.index(column)
    return table.set_column(at, column, pa.array(parsed, type=pa.list_(pa.float32())))


def _jsonl_batches(
    path: str, size: int, vector_column: str, id_column: str | None
) -> Iterator[tuple[Any, int]]:
    batch: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{n}: expected an object per line")
            if "properties" not in obj:  # a flat row: the vector column, the rest properties
                vec = obj.pop(vector_column, None)
                ident = obj.pop(id_column or "id", None)
                obj = {"properties": obj, "vector": vec, "id": ident}
            batch.append(obj)
            if len(batch) == size:
                yield batch, _vec_len(batch, path)
                batch = []
    if batch:
        yield batch, _vec_len(batch, path)


def _vec_len(batch: list[dict[str, Any]], path: str) -> int:
    vec = batch[0].get("vector")
    if not isinstance(vec, list) or not vec:
        raise ValueError(f"{path}: the first record has no vector (a list of numbers)")
    return len(vec)


# ---- export -----------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    fmt = _format(args.file)
    flt = None
    if args.filter:
        try:
            flt = json.loads(args.filter)
        except json.JSONDecodeError as e:
            raise ValueError(f"--filter is not JSON: {e.msg}") from None
    with connect(args) as client:
        index = client.indexes.open(namespace=args.namespace, index=args.index)
        n = index.records.count(flt)
        with _bar(args, n, "rec") as bar:
            if fmt == ".jsonl":
                written = _export_jsonl(index, flt, args.file, bar)
            elif fmt == ".npy":
                uuids, x = index.records.to_numpy(flt)
                np.save(args.file, x)
                Path(args.file + ".ids.txt").write_text("".join(u + "\n" for u in uuids))
                written = len(uuids)
            else:
                written = _export_table(index, flt, fmt, args.file)
            bar.update(written - bar.n)
    print(f"exported {written:,} records to {args.file}", file=sys.stderr)
    return 0


def _export_jsonl(index: Any, flt: Any, path: str, bar: Any) -> int:
    """Streamed page by page (``records.list`` cursors): never the whole index in memory."""
    written = 0
    after = None
    with open(path, "w", encoding="utf-8") as f:
        while True:
            page = index.records.list(filter=flt, limit=2_000, after=after, with_vector=True)
            for obj in page["objects"]:
                rec = {"id": obj["uuid"], "properties": obj.get("metadata") or {}}
                rec["vector"] = list(obj["vector"])
                f.write(json.dumps(rec) + "\n")
            written += len(page["objects"])
            bar.update(len(page["objects"]))
            after = page.get("next_after")
            if after is None:
                return written


def _export_table(index: Any, flt: Any, fmt: str, path: str) -> int:
    pa = require("pyarrow", 'pip install "eigenlake[arrow]"', "this format")
    table = index.records.to_arrow(flt)
    if fmt == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
        return int(table.num_rows)
    import pyarrow.csv as pacsv

    # CSV holds no lists: vectors and list properties as JSON text
    for at, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_fixed_size_list(field.type):
            text = [None if v is None else json.dumps(v) for v in table.column(at).to_pylist()]
            table = table.set_column(at, field.name, pa.array(text, type=pa.string()))
    pacsv.write_csv(table, path)
    return int(table.num_rows)
