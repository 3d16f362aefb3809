"""HttpProvider, the base of every adapter, and its Session: timeouts and errors mapped."""

from __future__ import annotations

import http.cookiejar
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_tz
from typing import Any, NamedTuple, Self

import requests
import requests.adapters
import urllib3.exceptions

from chatapp.providers.base import (
    MalformedResponse,
    ModelNotFound,
    ProviderError,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)
from chatapp.providers.wire import error_message

# Decides from (status, parsed error body, message) whether an error means "no such model";
# status is None for errors that arrive in-band, inside a 200 stream.
ModelMissing = Callable[[int | None, Any, str], bool]
# Decides whether a parsed 200 body or stream frame is an error the provider sent in-band.
ErrorFrame = Callable[[Any], bool]

_READ_SIZE = 1024  # bytes per read; chunked responses still arrive chunk by chunk
_POOL_SIZE = 32  # idle connections kept per host; more than a typical worker's threads
# What a stream may still send after its last event for its connection to be kept: normally
# only the end of the chunked body (5 bytes), or a last empty line.
_REST_LIMIT = 64 * 1024


class Timeouts(NamedTuple):
    """Seconds to wait for a connection and for each read: the (connect, read) requests takes."""

    connect: float
    read: float


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Accept no cookies (LLM APIs need none; some CDNs in front of them set them)."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class HttpClient:
    """A requests.Session bound to one provider's base URL, headers and timeouts."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeouts: Timeouts,
        model_missing: ModelMissing,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeouts
        self.session = requests.Session()
        _settle_environment(self.session, self.base_url)
        self.session.headers.update(headers or {})
        # One provider serves every request thread: keep enough idle connections for them,
        # and keep no cookies, so the shared session has no state that threads could race on.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=_POOL_SIZE)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.cookies.set_policy(_NoCookies())
        self._model_missing = model_missing

    def close(self) -> None:
        self.session.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET path and return its JSON body."""
        with self._send("GET", path, params=params) as resp:
            return self._json(resp)

    def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST body as JSON and return the JSON answer."""
        with self._send("POST", path, json=body) as resp:
            return self._json(resp)

    @contextmanager
    def stream_lines(self, path: str, body: Mapping[str, Any]) -> Iterator[Iterator[str]]:
        """POST body and give its response as lines; leaving the block closes the response.

        Closing the response early drops the connection, which is how every provider
        learns that it should stop generating. An adapter that leaves the block without an
        error has read the stream's last event: the rest of the body is read, and the
        connection goes back to the pool for the next call instead of being dropped.
        """
        resp = self._send("POST", path, json=body, stream=True)
        try:
            yield self._lines(resp)
            _read_rest(resp)
        finally:
            resp.close()

    def error(
        self, payload: Any, status: int | None = None, model: Any = None,
        retry_after: str | None = None,
    ) -> ProviderError:  # fmt: skip
        """The exception for an upstream error body (or in-band error frame)."""
        message = error_message(payload) or "no error message"
        if isinstance(model, str) and self._model_missing(status, payload, message):
            return ModelNotFound(model)
        where = f"HTTP {status}" if status is not None else "an error mid-stream"
        text = f"{self.provider} returned {where}: {message}"
        return ProviderResponseError(text, status, retry_after)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            resp = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc) from exc
        if not resp.ok:
            with resp:
                raise self._status_error(resp, kwargs.get("json"))
        return resp

    def _status_error(self, resp: requests.Response, body: Any) -> ProviderError:
        try:
            content = resp.content
        except requests.RequestException:  # the error body itself broke off: go without it
            content = b""
        try:
            payload: Any = json.loads(content)
        except ValueError:
            payload = None
        model = body.get("model") if isinstance(body, Mapping) else None
        if error_message(payload) is None:
            # Not an error document (e.g. an HTML page from a proxy): show a bit of the text.
            text = " ".join(content.decode("utf-8", errors="replace").split())[:200]
            payload = {"error": text or resp.reason or "empty body"}
            model = None  # a page like that says nothing about the model
        return self.error(payload, resp.status_code, model, _retry_after(resp))

    def _json(self, resp: requests.Response) -> Any:
        # The body is already read (no stream=True), so decoding is all that can fail.
        try:
            return resp.json()
        except ValueError as exc:  # requests.JSONDecodeError included
            raise MalformedResponse(f"{self.provider} sent a body that is not JSON") from exc

    def _lines(self, resp: requests.Response) -> Iterator[str]:
        pending: list[bytes] = []  # pieces of a line that spans several reads
        try:
            for data in resp.iter_content(chunk_size=_READ_SIZE):
                *ends, rest = data.split(b"\n")
                for end in ends:
                    yield _decode_line(b"".join([*pending, end]))
                    pending = []
                pending.append(rest)
        except requests.RequestException as exc:
            raise self._transport_error(exc) from exc
        if any(pending):
            yield _decode_line(b"".join(pending))

    def _transport_error(self, exc: requests.RequestException) -> ProviderError:
        # Timeout covers ConnectTimeout too; a read timeout mid-body surfaces as a
        # ConnectionError that wraps urllib3's ReadTimeoutError, hence the chain walk.
        if isinstance(exc, requests.Timeout) or _caused_by_timeout(exc):
            return ProviderTimeout(f"{self.provider} did not answer in time")
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return ProviderResponseError(f"{self.provider} broke off its answer")
        if isinstance(exc, requests.ConnectionError):
            return ProviderUnavailable(f"Cannot connect to {self.provider}")
        return ProviderUnavailable(f"Cannot reach {self.provider}: {type(exc).__name__}")


def _read_rest(resp: requests.Response) -> None:
    """Read what follows a stream's last event: a body that ends here frees its connection
    for the pool; one with more than _REST_LIMIT left, or that breaks off, loses it in close().
    It runs after the last chunk was handed on, so a server that stalls here delays no one."""
    try:
        resp.raw.read(_REST_LIMIT)
    except (urllib3.exceptions.HTTPError, OSError):
        pass


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """Resolve once what requests would otherwise read from the environment on every call.

    With `trust_env`, each request re-reads HTTP(S)_PROXY and NO_PROXY, the CA bundle variables
    and ~/.netrc (about 0.2 ms a call). Every call of a client goes to one base URL, so the
    answer is the same each time: take it now, and let the session stop looking.
    """
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.auth = requests.utils.get_netrc_auth(base_url)
    session.trust_env = False


def _retry_after(resp: requests.Response) -> str | None:
    """The answer's Retry-After, if it is one a client can read: seconds or an HTTP date."""
    value = resp.headers.get("Retry-After", "").strip()
    return value if value.isdigit() or parsedate_tz(value) else None


def _decode_line(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions wrapped in args."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        todo.extend(a for a in item.args if isinstance(a, BaseException))


def _caused_by_timeout(exc: BaseException) -> bool:
    return any(
        isinstance(e, TimeoutError) or type(e).__name__ == "ReadTimeoutError" for e in _chain(exc)
    )


class HttpProvider:
    """What every HTTP adapter shares; the adapter adds only its wire format.

    The adapter says how its wire shows a missing model (model_missing) and an error inside a
    200 answer (error_frame); the client turns both, and every transport failure, into the
    typed errors. The provider is closed by close() or by leaving a `with` block.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeouts: Timeouts,
        model_missing: ModelMissing,
        error_frame: ErrorFrame,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._http = HttpClient(
            name, base_url, timeouts=timeouts, model_missing=model_missing, headers=headers
        )
        self.base_url = self._http.base_url
        self._error_frame = error_frame

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _raise_in_band(self, payload: Any, model: str | None) -> None:
        """Raise the typed error for an error the provider sent inside a 200 answer."""
        if self._error_frame(payload):
            raise self._http.error(payload, model=model)
