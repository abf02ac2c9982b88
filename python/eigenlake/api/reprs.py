"""What ``repr(index)`` and ``repr(client)`` say, written once for every mode: the names,
and what a user asks next (records, dimensions, metric, mode). A repr never raises: when
the index cannot be read (dropped, damaged, server down) it says so instead."""

from __future__ import annotations

from typing import Any


def index_repr(kind: str, mode: str, index: Any, **extra: Any) -> str:
    """``Index(namespace='ns', index='docs', records=8,055, dimensions=320,
    metric='cosine', mode='embedded')``."""
    head = f"namespace={index.namespace!r}, index={index.name!r}"
    try:
        settings = index.settings
        records = sum(int(s["records"]) for s in settings.shards()["shards"])
        body = f", records={records:,}, dimensions={settings.dimensions()}"
        body += f", metric={settings.metric()!r}"
    except Exception as e:  # a repr must not raise: say why instead
        body = f", unreadable: {type(e).__name__}"
    more = "".join(f", {k}={v!r}" for k, v in extra.items())
    return f"{kind}({head}{body}, mode={mode!r}{more})"
