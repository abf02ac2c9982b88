"""``eigenlake serve``: the HTTP server (``/v1``) over an embedded store."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys

from ..server.app import DEFAULT_MAX_BODY

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "serve",
        help="serve a store over HTTP (/v1)",
        description="Serve an embedded store over HTTP (the /v1 protocol), with API keys.",
        epilog="example:\n  eigenlake serve --path ./store --api-key KEY --port 8000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--path", default=None, help="store directory (default: $EIGENLAKE_PATH)")
    s.add_argument(
        "--api-key",
        default=os.environ.get("EIGENLAKE_API_KEY") or None,
        help="admin key clients send as X-API-Key (default: $EIGENLAKE_API_KEY)",
    )
    s.add_argument(
        "--keys-file", default=None, help="JSON file of keys scoped to namespaces (docs/server.md)"
    )
    s.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY,
        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY})",
    )
    s.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening on a non-loopback host without any API key",
    )
    s.add_argument("--log-level", default="info")
    s.set_defaults(run=serve)


def serve(args: argparse.Namespace) -> int:
    from ..server.app import create_app
    from ..server.auth import KeyRing
    from ..server.runner import run

    keys = KeyRing.from_options(args.api_key, args.keys_file)
    if not keys.enabled and not is_loopback(args.host) and not args.insecure:
        print(
            f"refusing to listen on {args.host} without an API key; "
            "pass --api-key/--keys-file, or --insecure",
            file=sys.stderr,
        )
        return 2
    app = create_app(path=args.path, keys=keys, max_body_bytes=args.max_body_bytes)
    run(app, host=args.host, port=args.port, log_level=args.log_level)
    print("eigenlake serve: stopped cleanly", file=sys.stderr, flush=True)
    return 0
