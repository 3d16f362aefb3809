"""The provider's session reads the proxy environment once, when it is made, and honours it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chatapp.providers import ProviderUnavailable, Timeouts
from chatapp.providers.http import HttpClient

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
UPSTREAM = "http://llm.invalid:11434"  # never resolved: only a proxy can answer for it


class RecordingProxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself and remembers its request line."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.seen.append(self.path)
        body = json.dumps({"via": "proxy"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy_url() -> Iterator[str]:
    RecordingProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingProxy)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def client() -> HttpClient:
    return HttpClient("fake", UPSTREAM, timeouts=Timeouts(2, 2), model_missing=lambda *_: False)


def test_a_proxy_set_when_the_client_is_made_carries_its_calls(monkeypatch, proxy_url):
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    assert client().get_json("/api/tags") == {"via": "proxy"}
    assert RecordingProxy.seen == [f"{UPSTREAM}/api/tags"]


def test_no_proxy_for_the_providers_host_is_honoured(monkeypatch, proxy_url):
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "llm.invalid")
    with pytest.raises(ProviderUnavailable):
        client().get_json("/api/tags")
    assert RecordingProxy.seen == []


def test_the_environment_is_not_read_again_on_each_call(monkeypatch, proxy_url):
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    made = client()
    monkeypatch.setenv("NO_PROXY", "*")
    assert made.get_json("/api/tags") == {"via": "proxy"}
    assert made.session.trust_env is False
