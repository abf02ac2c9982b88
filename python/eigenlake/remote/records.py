"""`index.records` over HTTP."""

from __future__ import annotations

import builtins
import datetime
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from ..api.checks import MAX_PROPERTY_DEPTH, check_bool, check_nesting, check_removal
from ..api.export import Exported, export_by_pages, schema_kinds
from ..api.protocols import Records as RecordsSurface
from ..api.results import AddManyResult, FailedRecord
from ..errors import EigenlakeError, ValidationError
from ..schema import describe_value, is_utf8
from .http import path_id
from .vectors import matrix_rows, to_list, to_lists

if TYPE_CHECKING:
    from .index import RemoteIndex

# ~40 MB of JSON per request: below the server's default body limit (64 MiB).
_VALUES_PER_REQUEST = 2_000_000
# Leaves JSON (and the transport's encoder) carries as they are; anything else is walked.
_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)
# What the transport encodes besides JSON's own values (see http._plain).
_ENCODED = (np.generic, datetime.date, uuid.UUID)


# ---- checks made before a request is sent ------------------------------------------------
# The server refuses whatever the embedded store refuses, with the same message; these are
# the inputs that would otherwise not reach it as given: converted on the way (a boolean
# vector read as 1/0, properties=0 sent as {}, int keys as strings), or failing to encode
# (a value nested thousands deep, an object JSON has no form for).


def _value_problem(value: Any) -> str | None:
    """What makes a property value unsendable, worded as the embedded check words it:
    nested more than ``MAX_PROPERTY_DEPTH`` arrays/objects (walked with an explicit stack,
    as ``json.dumps`` would exhaust the interpreter's on a 10,000-deep value), an object
    key that is not a string, or a leaf that has no JSON form."""
    # (value, depth, trail): trail is (parent trail, key) or None, rendered only on error
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]
    while stack:
        v, depth, trail = stack.pop()
        if isinstance(v, _PLAIN):
            continue
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (dict, list, tuple)):
            if depth >= MAX_PROPERTY_DEPTH:
                return f"nested more than {MAX_PROPERTY_DEPTH} arrays/objects deep"
            if isinstance(v, dict):
                for k, item in v.items():
                    if not isinstance(k, str):
                        return (
                            f"{_path(trail) or 'value'}: object keys must be strings, got "
                            f"{type(k).__name__} {describe_value(k)}"
                        )
                    stack.append((item, depth + 1, (trail, describe_value(k, 40))))
            else:
                stack.extend((item, depth + 1, (trail, str(i))) for i, item in enumerate(v))
            continue
        if isinstance(v, _ENCODED):
            continue
        path = _path(trail)
        return f"{path + ': ' if path else ''}{type(v).__name__} is not a JSON value"
    return None


def _path(trail: Any) -> str:
    keys: builtins.list[str] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    return "".join(f"[{k}]" for k in reversed(keys))


def checked_properties(props: Any, where: str, *, optional: bool = False) -> Any:
    """``props`` as sent: None is no properties ({}; kept None when ``optional``, as
    update's "no change"); anything else must be a dict whose values can be sent."""
    if props is None:
        return None if optional else {}
    if not isinstance(props, dict):
        raise ValidationError(f"{where}: properties must be a dict, got {type(props).__name__}")
    for name, value in props.items():
        if not isinstance(name, str):
            raise ValidationError(
                f"{where}: property names must be strings, got {type(name).__name__}"
                f" {describe_value(name)}"
            )
        if type(value) in _PLAIN_TYPES:
            continue
        problem = _value_problem(value)
        if problem is not None:
            raise ValidationError(f"{where}: property {name!r}: {problem}")
    return props


def _shown(given: Any) -> str:
    """An id as given, for messages and ``FailedRecord.id`` (as embedded shows it)."""
    text = str(given) if isinstance(given, (str, uuid.UUID)) else None
    if text is not None and len(text) <= 64 and is_utf8(text):
        return text
    return describe_value(given)


def _given_id(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("uuid"))


def _failed_id(item: Any) -> str | None:
    given = _given_id(item) if isinstance(item, dict) else None
    return None if given is None else _shown(given)


def _record(item: Any, i: int) -> dict[str, Any]:
    """The body of one record of ``add_many`` but its vector (checked by ``_with_vectors``)."""
    if not isinstance(item, dict):
        raise ValidationError(
            f"record {i}: each item of records must be a dict with 'properties' and "
            f"'vector', got {type(item).__name__} {describe_value(item)}"
        )
    rid = _given_id(item)
    where = f"record {i}" if rid is None else f"record {i} (id {_shown(rid)})"
    out: dict[str, Any] = {"properties": checked_properties(item.get("properties"), where)}
    if rid is not None:
        out["uuid"] = str(rid)
    return out


def _vector_item(item: dict[str, Any]) -> dict[str, Any]:
    """The body of one record of ``add_vectors`` but its vector (its keys were checked by
    ``api.protocols.Records.add_vectors``)."""
    rid = _given_id(item)
    return {} if rid is None else {"uuid": str(rid)}


def _with_vectors(
    recs: builtins.list[Any],
    bodies: dict[int, dict[str, Any]],
    errors: dict[int, ValidationError],
    on_error: str,
    embeds: bool = True,
) -> builtins.list[tuple[int, dict[str, Any]]]:
    """``(position, body)`` of the records whose vector is numbers too (as embedded mode,
    after every record's properties were checked); the others go into ``errors``."""
    # a record without a vector is sent without one: the server embeds it (an index with
    # an embedder) or refuses it by position, as embedded mode does
    unsent = [i for i in bodies if recs[i].get("vector") is None] if embeds else []
    items = [(i, bodies[i]) for i in unsent]
    keep = [i for i in bodies if recs[i].get("vector") is not None] if unsent else list(bodies)
    vectors = to_lists([recs[i].get("vector") for i in keep], keep)
    for i, vector in zip(keep, vectors, strict=True):
        if isinstance(vector, ValidationError):
            if on_error == "raise":
                raise vector
            errors[i] = vector
        else:
            bodies[i]["vector"] = vector
            items.append((i, bodies[i]))
    if unsent:
        items.sort(key=lambda item: item[0])
    return items


_RECORD_NO = re.compile(r"(^|repeats )record (\d+)")


def _renumbered(message: str, positions: builtins.list[int]) -> str:
    """A server message about "record n" of one request, numbered as in the caller's list
    (a request holds a slice of it, without the records refused before sending)."""

    def sub(m: re.Match[str]) -> str:
        n = int(m.group(2))
        return f"{m.group(1)}record {positions[n] if n < len(positions) else n}"

    return _RECORD_NO.sub(sub, message)


class RemoteRecords(RecordsSurface):
    """``index.records`` over HTTP; ``add_many``, ``add_vectors`` and ``list`` are written
    once in ``api.protocols.Records`` over ``_add_many``, ``_add_vectors`` and ``_list``."""

    def __init__(self, index: RemoteIndex) -> None:
        self._i = index

    def _url(self, suffix: str) -> str:
        return f"{self._i.path}/records/{suffix}"

    def _rec_url(self, id: Any) -> str:
        return self._url(path_id(id))

    def _add(self, record: dict[str, Any], on_duplicate: str) -> str:
        rec = _record({"properties": record["properties"], "id": record["id"]}, 0)
        body = {
            **rec,
            # None: the server embeds the record's text (an index with an embedder)
            "vector": None if record["vector"] is None else to_list(record["vector"], "record 0"),
            "uuid": rec.get("uuid"),
            "on_duplicate": on_duplicate,
        }
        # A retry is harmless only when a second attempt cannot store a second record.
        safe = record["id"] is not None and on_duplicate != "error"
        resp = self._i.t.post(self._url("insert"), json=body, idempotent=safe)
        return str(resp["uuid"])

    def _add_many(
        self, records: builtins.list[Any], *, on_duplicate: str, on_error: str, batch_size: int
    ) -> AddManyResult:
        """Requests of up to ~2M vector values (at least ``batch_size`` records) each.

        Each request is one transaction on the server, so a call that fits in one request
        keeps the embedded rule: with ``on_error="raise"`` nothing of a failing call is stored.
        With ``on_error="continue"`` a record refused before sending is a failed record (at
        its position), as in embedded mode, and the others are sent.
        """
        bodies: dict[int, dict[str, Any]] = {}
        errors: dict[int, ValidationError] = {}
        for i, rec in enumerate(records):
            try:
                bodies[i] = _record(rec, i)
            except ValidationError as e:
                if on_error == "raise":
                    raise
                errors[i] = e
        items = _with_vectors(records, bodies, errors, on_error)
        failed = [
            FailedRecord(_failed_id(records[i]), str(e), i) for i, e in sorted(errors.items())
        ]
        opts = {"on_duplicate": on_duplicate, "on_error": on_error}
        return self._send("insert-many", "objects", items, failed, int(batch_size), opts)

    def _add_vectors(
        self, vectors: np.ndarray | builtins.list[dict[str, Any]], *, batch_size: int
    ) -> AddManyResult:
        """One request per ~2M vector values (at least ``batch_size`` records)."""
        items: builtins.list[tuple[int, dict[str, Any]]]
        if isinstance(vectors, np.ndarray):
            rows = matrix_rows(vectors)
            if rows is not None:
                items = [(i, {"vector": row}) for i, row in enumerate(rows)]
            else:  # not numbers: refused by the row check, with its message
                items = [(i, {"vector": to_list(v, f"record {i}")}) for i, v in enumerate(vectors)]
        else:
            bodies = {i: _vector_item(r) for i, r in enumerate(vectors)}
            items = _with_vectors(vectors, bodies, {}, "raise", embeds=False)
        return self._send("insert-vectors", "vectors", items, [], int(batch_size), {})

    def _send(
        self,
        route: str,
        key: str,
        items: builtins.list[tuple[int, dict[str, Any]]],
        failed: builtins.list[FailedRecord],
        batch_size: int,
        opts: dict[str, Any],
    ) -> AddManyResult:
        """``items`` (position in the caller's list, body) in requests of bounded size;
        ``failed``: the records refused before sending."""
        # records sent without a vector (the server embeds their text) count as 1,024 values
        dims = next((len(b["vector"]) for _, b in items if "vector" in b), 1024)
        per_request = max(batch_size, _VALUES_PER_REQUEST // max(dims, 1))
        uuids: builtins.list[str] = []
        failed = list(failed)
        for start in range(0, len(items), per_request):
            chunk = items[start : start + per_request]
            positions = [pos for pos, _ in chunk]
            body = {key: [item for _, item in chunk], "batch_size": batch_size, **opts}
            try:
                resp = self._i.t.post(self._url(route), json=body) or {}
            except EigenlakeError as e:
                message = _renumbered(str(e), positions)
                if message == str(e):
                    raise
                raise type(e)(message, status_code=e.status_code) from None
            uuids += [str(u) for u in resp.get("uuids") or []]
            for f in resp.get("failed_objects") or []:
                pos = f.get("position")
                at = positions[pos] if isinstance(pos, int) and 0 <= pos < len(chunk) else None
                error = _renumbered(str(f.get("error") or ""), positions)
                failed.append(FailedRecord(f.get("uuid"), error, at))
        failed.sort(key=lambda f: -1 if f.position is None else f.position)
        return AddManyResult(uuids, failed)

    def _read(self, id: Any, with_vector: bool, with_properties: bool) -> dict[str, Any] | None:
        body = {"uuid": str(id), "return_data": with_vector, "return_metadata": with_properties}
        resp = self._i.t.post(self._url("get-by-id"), json=body, idempotent=True)
        obj: dict[str, Any] | None = resp["object"]
        return obj

    def _count(self, filter: Any) -> int:
        check_nesting(filter)  # before encoding it (the server checks everything else)
        resp = self._i.t.post(self._url("count"), json={"where": filter}, idempotent=True)
        return int(resp["count"])

    def exists(self, id: str) -> bool:
        return bool(self._i.t.get(self._url(f"exists/{path_id(id)}"))["exists"])

    def remove(self, id: str) -> dict[str, Any]:
        resp: dict[str, Any] = self._i.t.delete(self._rec_url(id), gone={"deleted": 1})
        return resp

    def remove_many(
        self,
        *,
        filter: dict[str, Any],
        limit: int | None = None,
        on_missing: str = "skip",
        background: bool = False,
        wait: bool = True,
    ) -> dict[str, Any]:
        """``{"deleted": n}``; ``background=True`` runs a server job, awaited unless
        ``wait=False`` (then ``{"job_id", ...}``: see ``job``/``wait_job``)."""
        if not check_bool("background", background):
            return super().remove_many(filter=filter, limit=limit, on_missing=on_missing)
        wait = check_bool("wait", wait)
        limit = check_removal(filter, limit, on_missing)
        job = self._delete_many(filter, limit, on_missing, background=True)
        return self.wait_job(int(job["job_id"])) if wait else job

    def _remove_many(self, filter: Any, limit: int | None, on_missing: str) -> dict[str, Any]:
        return self._delete_many(filter, limit, on_missing, background=False)

    def _delete_many(
        self, filter: Any, limit: int | None, on_missing: str, *, background: bool
    ) -> dict[str, Any]:
        check_nesting(filter)  # before encoding it (the server checks everything else)
        body = {
            "where": filter,
            "limit": limit,
            "on_missing_keys": on_missing,
            "background": background,
        }
        resp: dict[str, Any] = self._i.t.post(self._url("delete-many"), json=body)
        return resp

    def job(self, job_id: int) -> dict[str, Any]:
        resp: dict[str, Any] = self._i.t.get(self._url(f"delete-jobs/{int(job_id)}"))
        return resp

    def wait_job(self, job_id: int, *, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def _modify(self, id: Any, properties: Any, vector: Any, *, merge: bool) -> dict[str, Any]:
        where = f"record {_shown(id)}"
        # update: None is "no change"; replace: only None means "no properties" (0 or [] are
        # mistakes, refused here rather than sent as {})
        body = {
            "properties": checked_properties(properties, where, optional=merge),
            "vector": None if vector is None else to_list(vector, where),
        }
        send = self._i.t.patch if merge else self._i.t.put
        resp: dict[str, Any] = send(self._rec_url(id), json=body)
        return resp

    def _list(
        self, filter: Any, limit: int, after: str | None, with_vector: bool, with_properties: bool
    ) -> dict[str, Any]:
        check_nesting(filter)  # before encoding it (the server checks everything else)
        body = {
            "where": filter,
            "limit": limit,
            "after": after,
            "include_vector": with_vector,
            "include_properties": with_properties,
        }
        resp: dict[str, Any] = self._i.t.post(
            self._url("get-by-filter"), json=body, idempotent=True
        )
        return resp

    def _export(
        self, filter: Any, limit: int | None, with_vector: bool, with_properties: bool
    ) -> Exported:
        """Cursor pages of ``list`` (one request each); the kinds from the settings."""
        check_nesting(filter)
        settings = self._i.settings.all()
        out = export_by_pages(
            self, filter, limit, with_vector, with_properties, int(settings["dims"])
        )
        out.kinds = schema_kinds(settings.get("schema"))
        return out
