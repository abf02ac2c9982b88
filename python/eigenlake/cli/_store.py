"""The store a command works on: ``--path DIR`` (embedded) or ``--url URL`` (a server)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_store_args(p: argparse.ArgumentParser, *, index: bool) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--path", help="embedded store directory (default: $EIGENLAKE_PATH)")
    where.add_argument("--url", help="a server's URL, e.g. http://localhost:8000")
    p.add_argument(
        "--api-key",
        default=os.environ.get("EIGENLAKE_API_KEY") or None,
        help="with --url: the key sent as X-API-Key (default: $EIGENLAKE_API_KEY)",
    )
    if index:
        p.add_argument("--namespace", required=True, help="the index's namespace")
        p.add_argument("--index", required=True, help="the index's name")


def connect(args: argparse.Namespace) -> Any:
    import eigenlake

    if args.url:
        return eigenlake.connect(url=args.url, api_key=args.api_key)
    if not (args.path or os.environ.get("EIGENLAKE_PATH")):
        raise ValueError("say which store: --path DIR (embedded) or --url URL (a server)")
    return eigenlake.connect(path=args.path)


def progress_default(args: argparse.Namespace) -> bool | None:
    """``--progress``/``--no-progress``, else None: on when stderr is a terminal."""
    value: bool | None = args.progress
    return value
