"""Ollama specifics: the host setting, the request body and the NDJSON details."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatapp.providers import ChatOptions, Provider
from chatapp.providers.ollama import normalize_host
from tests.fakes.ollama import FakeOllama
from tests.providers.conftest import HISTORY, NO_OPTIONS, collect

MODEL = "llama3.1:8b-instruct-q8_0"


@pytest.fixture
def ollama(fake_ollama: FakeOllama, make_provider: Callable[..., Provider]) -> Provider:
    return make_provider("ollama", fake_ollama.url)


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("10.0.0.5:8080", "http://10.0.0.5:8080"),
        (":5555", "http://127.0.0.1:5555"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://gpu-box", "https://gpu-box:443"),
        ("https://proxy.example:8443/ollama/", "https://proxy.example:8443/ollama"),
        ("[::1]:11434", "http://[::1]:11434"),
    ],
)
def test_ollama_host_is_read_like_ollama_reads_it(setting: str | None, url: str) -> None:
    assert normalize_host(setting) == url


def test_bare_host_and_port_reaches_the_server(
    fake_ollama: FakeOllama, make_provider: Callable[..., Provider]
) -> None:
    host, port = fake_ollama.address
    provider = make_provider("ollama", f"{host}:{port}")
    assert provider.chat(HISTORY, MODEL, NO_OPTIONS).content == "Hello world!"


def test_messages_are_sent_in_order_with_their_roles(
    ollama: Provider, fake_ollama: FakeOllama
) -> None:
    ollama.chat(HISTORY, MODEL, NO_OPTIONS)
    sent = fake_ollama.requests[-1].json["messages"]
    assert sent == [{"role": m.role, "content": m.content} for m in HISTORY]


def test_options_go_in_the_options_object(ollama: Provider, fake_ollama: FakeOllama) -> None:
    ollama.chat(HISTORY, MODEL, ChatOptions(temperature=0.7, max_tokens=64))
    assert fake_ollama.requests[-1].json["options"] == {"temperature": 0.7, "num_predict": 64}


def test_chat_posts_to_api_chat(ollama: Provider, fake_ollama: FakeOllama) -> None:
    ollama.chat(HISTORY, MODEL, NO_OPTIONS)
    assert (fake_ollama.requests[-1].method, fake_ollama.requests[-1].path) == (
        "POST",
        "/api/chat",
    )


def test_model_without_tag_is_passed_through(ollama: Provider, fake_ollama: FakeOllama) -> None:
    fake_ollama.models = ["mistral:latest"]
    assert ollama.chat(HISTORY, "mistral", NO_OPTIONS).model == "mistral"


def test_models_keep_the_tags_details(ollama: Provider) -> None:
    info = ollama.models()[0]
    assert info.name == MODEL
    assert info.details["details"]["format"] == "gguf"
    assert "size" in info.details


def test_ping_reports_the_server_version(ollama: Provider, fake_ollama: FakeOllama) -> None:
    fake_ollama.version = "0.9.9"
    assert ollama.ping() == {"version": "0.9.9"}
    assert fake_ollama.requests[-1].path == "/api/version"


def test_stream_reassembles_lines_longer_than_one_read(
    ollama: Provider, fake_ollama: FakeOllama
) -> None:
    # Long tokens make lines longer than one read, so line reassembly is exercised.
    fake_ollama.tokens = ["é" * 3000, "ü" * 700, "🙂"]
    chunks = collect(ollama.stream(HISTORY, MODEL, NO_OPTIONS))
    assert "".join(c.content for c in chunks) == "é" * 3000 + "ü" * 700 + "🙂"
