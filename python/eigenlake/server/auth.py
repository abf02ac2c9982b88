"""API keys: kept as sha256 digests, compared in constant time, optionally scoped.

Keys file (``eigenlake serve --keys-file keys.json``)::

    {"keys": [
        {"key": "admin-secret", "admin": true},
        {"sha256": "<hex digest of a key>", "namespaces": ["team-a", "team-b"]}
    ]}

An entry names its key in clear (``key``) or as a sha256 hex digest (``sha256``).
``admin: true`` (or leaving out ``namespaces``) grants every namespace; otherwise the key
may only touch the listed namespaces (403 elsewhere). ``daily_search_units`` caps the
search units (``api/usage.py``) a key may use per UTC day (429 past it); an admin key sees
every key's usage at ``GET /v1/usage``, another key its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuthenticationError


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class KeyEntry:
    sha256: bytes
    namespaces: frozenset[str] | None  # None: every namespace
    daily_search_units: float | None = None  # None: no quota
    admin: bool = True

    @property
    def key_id(self) -> str:
        """How usage names the key: a prefix of its digest, never the key."""
        return self.sha256.hex()[:12]

    def allows(self, namespace: str | None) -> bool:
        return self.namespaces is None or namespace is None or namespace in self.namespaces


class ForbiddenError(AuthenticationError):
    """A known key used outside its namespaces."""

    status_code = 403


class KeyRing:
    """The keys a server accepts; an empty ring means no authentication."""

    def __init__(self, entries: list[KeyEntry] | None = None) -> None:
        self.entries = list(entries or [])

    @property
    def enabled(self) -> bool:
        return bool(self.entries)

    @classmethod
    def from_options(cls, api_key: str | None = None, keys_file: str | None = None) -> KeyRing:
        entries = [KeyEntry(digest(api_key), None)] if api_key else []
        if keys_file:
            entries += parse_keys(json.loads(Path(keys_file).read_text(encoding="utf-8")))
        return cls(entries)

    def allows(self, presented: str | None, namespace: str) -> bool:
        """Whether an already checked key may see ``namespace``."""
        try:
            self.check(presented, namespace)
        except AuthenticationError:
            return False
        return True

    def check(self, presented: str | None, namespace: str | None) -> KeyEntry | None:
        """Raise 401 for a missing/unknown key, 403 for a key scoped to other namespaces;
        the key's entry (None when the server has no keys)."""
        if not self.enabled:
            return None
        if not presented:
            raise AuthenticationError("missing API key (header X-API-Key)")
        given = digest(presented)
        match: KeyEntry | None = None
        for entry in self.entries:  # no early exit: time does not tell which entry matched
            if hmac.compare_digest(given, entry.sha256) and match is None:
                match = entry
        if match is None:
            raise AuthenticationError("invalid API key")
        if not match.allows(namespace):
            raise ForbiddenError(f"API key not allowed for namespace {namespace!r}")
        return match


def parse_keys(doc: Any) -> list[KeyEntry]:
    items = doc.get("keys") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValueError('keys file: expected {"keys": [...]}')
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"keys file: entry {i} is not an object")
        if "key" in item:
            sha = digest(str(item["key"]))
        elif "sha256" in item:
            sha = bytes.fromhex(str(item["sha256"]))
            if len(sha) != 32:
                raise ValueError(f"keys file: entry {i}: sha256 must be 64 hex digits")
        else:
            raise ValueError(f"keys file: entry {i} needs 'key' or 'sha256'")
        admin = item.get("admin", False)
        if not isinstance(admin, bool):  # "false" as a string must not grant admin
            raise ValueError(f"keys file: entry {i}: admin must be true or false")
        ns = item.get("namespaces")
        if ns is not None and (
            not isinstance(ns, list) or not all(isinstance(n, str) and n for n in ns)
        ):
            raise ValueError(f"keys file: entry {i}: namespaces must be a list of names")
        quota = item.get("daily_search_units")
        if quota is not None and (
            isinstance(quota, bool) or not isinstance(quota, (int, float)) or not quota >= 0
        ):
            raise ValueError(f"keys file: entry {i}: daily_search_units must be a number >= 0")
        quota = None if quota is None else float(quota)
        if admin or ns is None:
            out.append(KeyEntry(sha, None, quota, admin=True))
        else:
            out.append(KeyEntry(sha, frozenset(ns), quota, admin=False))
    return out
