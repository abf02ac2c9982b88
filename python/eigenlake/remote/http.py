"""httpx transport: auth header, timeouts, error mapping, retries for idempotent calls."""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from ..errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    EigenlakeError,
    NetworkError,
    NotFoundError,
    QuotaExceededError,
    StorageError,
    ValidationError,
)
from ..ids import canonical_id
from ..schema import is_utf8

log = logging.getLogger("eigenlake")

_BY_STATUS: dict[int, type[EigenlakeError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    400: ValidationError,
    413: ValidationError,
    422: ValidationError,
    429: QuotaExceededError,
}
# Classes a status cannot tell apart, named by the server's ``x-eigenlake-error`` header
# (see ``server/errors.py``): damaged storage is a 500 like any internal error.
_BY_NAME: dict[str, type[EigenlakeError]] = {"StorageError": StorageError}


def _plain(obj: Any) -> Any:
    """JSON for what users pass in embedded mode too: NumPy values, datetimes, UUIDs."""
    if hasattr(obj, "tolist"):  # NumPy arrays and scalars
        return obj.tolist()
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def encode(body: Any) -> bytes:
    """A request body as JSON, encoded once for all attempts.

    NaN/Infinity pass through (the server's JSON reader accepts them) so the store refuses
    them with the same message as in embedded mode; lone surrogates are sent escaped
    (``ensure_ascii``) for the same reason. What cannot be encoded at all is a
    ``ValidationError``, not a ``RecursionError``/``TypeError`` from ``json.dumps``: the
    write methods check property values first, naming the property, so this is the
    last guard (a schema or an agent argument nested thousands deep, say).
    """
    try:
        text = json.dumps(body, separators=(",", ":"), allow_nan=True, default=_plain)
    except RecursionError:
        raise ValidationError(
            "request body: a value nests too deeply to encode as JSON (a property value"
            " may nest at most 32 arrays/objects, a filter 32 levels)"
        ) from None
    except (TypeError, ValueError) as exc:  # no JSON form; a circular reference
        raise ValidationError(f"request body is not valid JSON: {exc}") from None
    return text.encode("utf-8")


def path_id(id: Any) -> str:
    """A record id as a URL path segment. What cannot be a uuid string there (a number, a
    lone surrogate, which a URL cannot carry) is refused as embedded mode refuses it."""
    if isinstance(id, uuid.UUID):
        return str(id)
    if not isinstance(id, str) or not is_utf8(id):
        canonical_id(id)  # raises: not a uuid string / not a valid uuid
    return quote(str(id), safe="")


def error_for(resp: httpx.Response) -> EigenlakeError:
    try:
        payload = resp.json()
        detail = payload.get("detail") if isinstance(payload, dict) else None
    except ValueError:
        detail = None
    message = (
        str(detail) if detail is not None else (resp.text.strip() or f"HTTP {resp.status_code}")
    )
    cls = _BY_NAME.get(resp.headers.get("x-eigenlake-error", "")) or _BY_STATUS.get(
        resp.status_code, APIError
    )
    return cls(message, status_code=resp.status_code)


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"X-API-Key": api_key.strip()} if api_key and api_key.strip() else {}


class Sender(Protocol):
    """What a ``Transport`` sends its requests through (``httpx.Client`` has this shape)."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response: ...

    def close(self) -> None: ...


class Transport:
    """One pooled httpx client. ``retries`` extra attempts, exponential backoff.

    Only calls marked idempotent are retried: re-sending an insert after a lost answer
    could store it twice.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 2,
        backoff: float = 0.1,
        transport: httpx.BaseTransport | None = None,
        client: Sender | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, int(retries))
        self.backoff = backoff
        # ``client``: what sends the requests instead of a pooled httpx.Client (the async
        # client's bridge to its httpx.AsyncClient, see ``remote/aio.py``)
        self._client: Sender | httpx.Client = client or httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=float(timeout),
            headers=auth_headers(api_key),
            transport=transport,
        )

    def request(
        self, method: str, path: str, *, idempotent: bool, gone: Any = None, **kwargs: Any
    ) -> Any:
        """One call with retries for idempotent requests. ``gone``: the answer to give when
        a retried delete finds nothing (an earlier attempt deleted it, its answer lost)."""
        attempts = self.retries + 1 if idempotent else 1
        if "json" in kwargs:
            kwargs["content"] = encode(kwargs.pop("json"))
            kwargs["headers"] = {"content-type": "application/json"}
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self._client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                if last:
                    raise NetworkError(f"{method} {path} timed out: {exc}") from exc
            except httpx.TransportError as exc:
                if last:
                    raise NetworkError(f"{method} {path} failed: {exc}") from exc
            else:
                if resp.status_code < 400:
                    return resp.json() if resp.content else None
                if resp.status_code == 404 and attempt > 0 and gone is not None:
                    return gone
                if resp.status_code < 500 or last:
                    raise error_for(resp)
            pause = min(self.backoff * (2**attempt), 5.0)
            log.info(
                "%s %s: attempt %d failed; retrying in %.2f s", method, path, attempt + 1, pause
            )
            time.sleep(pause)
        raise NetworkError(f"{method} {path} failed")  # unreachable: the loop raises

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, idempotent=True, **kwargs)

    def post(self, path: str, *, idempotent: bool = False, **kwargs: Any) -> Any:
        return self.request("POST", path, idempotent=idempotent, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, idempotent=True, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        # A merge of the same properties twice gives the same record.
        return self.request("PATCH", path, idempotent=True, **kwargs)

    def delete(self, path: str, *, gone: Any = None, **kwargs: Any) -> Any:
        return self.request("DELETE", path, idempotent=True, gone=gone, **kwargs)

    def close(self) -> None:
        self._client.close()
