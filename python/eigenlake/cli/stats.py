"""``eigenlake stats``: what a store holds, index by index."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from typing import Any

from ._store import add_store_args, connect


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats",
        help="namespaces, indexes, records, dimensions, bytes on disk",
        description="List every index of a store with its records, dimensions, metric and "
        "(embedded) bytes on disk.",
        epilog="examples:\n  eigenlake stats --path ./store\n"
        "  eigenlake stats --url http://localhost:8000 --api-key KEY --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_args(p, index=False)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def collect(client: Any) -> list[dict[str, Any]]:
    rows = []
    for item in sorted(client.indexes.list(), key=lambda i: (i["namespace"], i["index"])):
        idx = client.indexes.open(namespace=item["namespace"], index=item["index"])
        settings = idx.settings.all()
        row: dict[str, Any] = {
            "namespace": item["namespace"],
            "index": item["index"],
            "records": sum(int(s["records"]) for s in settings["shards"]["shards"]),
            "dimensions": int(settings["dims"]),
        }
        directory = getattr(idx, "directory", None)  # embedded: the files are here
        if directory is not None:
            row["bytes"] = _bytes_under(directory)
        rows.append(row)
    return rows


def _bytes_under(path: str) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile
                total += os.path.getsize(os.path.join(folder, name))
    return total


def run(args: argparse.Namespace) -> int:
    with connect(args) as client:
        rows = collect(client)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no indexes (create one with records.add_many, or eigenlake import)")
        return 0
    head = ["namespace", "index", "records", "dimensions"] + (
        ["bytes"] if "bytes" in rows[0] else []
    )
    table = [[_show(r[h]) for h in head] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for t in table:
        print(
            "  ".join(
                c.rjust(w) if c[:1].isdigit() else c.ljust(w)
                for c, w in zip(t, widths, strict=True)
            )
        )
    return 0


def _show(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
