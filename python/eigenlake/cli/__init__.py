"""The ``eigenlake`` command: ``serve``, ``import``, ``export``, ``stats``, ``demo``.

Each command lives in its own module and registers its parser here; every one that reads
or writes a store takes ``--path DIR`` (embedded) or ``--url URL [--api-key KEY]`` (a
server), so a script works against either. Exit codes: 0 done, 1 the command failed (the
message says why and what to do), 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .serve import is_loopback

__all__ = ["main", "is_loopback"]

_EPILOG = """examples:
  eigenlake demo                                   a short tour on generated data
  eigenlake serve --path ./store --api-key KEY     serve a store over HTTP (/v1)
  eigenlake import docs.parquet --path ./store --namespace ns --index docs
  eigenlake export --path ./store --namespace ns --index docs docs.parquet
  eigenlake stats --url http://localhost:8000 --api-key KEY
"""


def _parser() -> argparse.ArgumentParser:
    from .. import __version__
    from . import data, demo, serve, stats

    p = argparse.ArgumentParser(
        prog="eigenlake",
        description="EigenLake: a vector database for analysing embedded collections.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"eigenlake {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, data, stats, demo):
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # the library logs to "eigenlake" silently; a command shows its warnings
    logging.basicConfig(level=logging.WARNING, format="eigenlake: %(message)s")
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("eigenlake: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a clear line, not a traceback, for what a user can fix
        from ..errors import EigenlakeError

        if not isinstance(e, (EigenlakeError, OSError, ImportError, ValueError)):
            raise
        print(f"eigenlake {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
