"""The fake servers themselves: knobs, reset and shutdown, since every other test leans on them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from chatapp.providers import OllamaProvider, Provider, ProviderError, Timeouts
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.providers.conftest import HISTORY, NO_OPTIONS, collect

MODEL = "llama3.1:8b-instruct-q8_0"


def in_background(call: Callable[[], object]) -> threading.Thread:
    """Run call in a thread, swallowing the provider error it ends with."""

    def run() -> None:
        try:
            call()
        except ProviderError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("fake_class", "suffix"), [(FakeOllama, ""), (FakeOpenAI, "/v1"), (FakeAnthropic, "")]
)
def test_fake_url_is_a_local_base_url(fake_class: type, suffix: str) -> None:
    with fake_class() as fake:
        assert fake.url == f"http://127.0.0.1:{fake.address[1]}{suffix}"


def test_constructor_knobs_survive_reset() -> None:
    with FakeOllama(tokens=["only"], token_delay=0.5) as fake:
        fake.tokens = ["changed"]
        fake.reset()
        assert (fake.tokens, fake.token_delay) == (["only"], 0.5)


def test_unknown_knob_is_rejected() -> None:
    with pytest.raises(TypeError, match="tokenz"):
        FakeOllama(tokenz=["typo"])


def test_reset_clears_recorded_requests(
    fake_ollama: FakeOllama, make_provider: Callable[..., Provider]
) -> None:
    make_provider("ollama", fake_ollama.url).models()
    assert len(fake_ollama.requests) == 1
    fake_ollama.reset()
    assert fake_ollama.requests == []


def test_reset_releases_a_hanging_request(
    fake_ollama: FakeOllama, make_provider: Callable[..., Provider]
) -> None:
    fake_ollama.hang = True
    provider = make_provider("ollama", fake_ollama.url, LLM_TIMEOUT=60)
    thread = in_background(lambda: provider.chat(HISTORY, MODEL, NO_OPTIONS))
    while not fake_ollama.requests:
        threading.Event().wait(0.01)
    fake_ollama.reset()
    thread.join(10)
    assert not thread.is_alive()


def test_stop_ends_hanging_requests_and_slow_streams() -> None:
    timeouts = Timeouts(connect=5, read=120)  # so long that only stop() can end the requests
    with (
        FakeOllama(token_delay=60) as fake,
        OllamaProvider(fake.url, timeouts=timeouts) as provider,
    ):
        slow = in_background(lambda: collect(provider.stream(HISTORY, MODEL, NO_OPTIONS)))
        fake.hang = True
        hung = in_background(lambda: provider.models())
        while len(fake.requests) < 2:
            threading.Event().wait(0.01)
    slow.join(10)
    hung.join(10)
    assert not slow.is_alive() and not hung.is_alive()


def test_a_stream_read_to_the_end_is_no_disconnect(
    fake_ollama: FakeOllama, make_provider: Callable[..., Provider]
) -> None:
    collect(make_provider("ollama", fake_ollama.url).stream(HISTORY, MODEL, NO_OPTIONS))
    assert not fake_ollama.disconnected.is_set()


def test_recorded_requests_read_as_objects_or_dicts(
    fake_ollama: FakeOllama, make_provider: Callable[..., Provider]
) -> None:
    make_provider("ollama", fake_ollama.url).chat(HISTORY, MODEL, NO_OPTIONS)
    request = fake_ollama.requests[0]
    assert request["json"] == request.json
    assert (request.method, request.path) == ("POST", "/api/chat")
    assert request.headers["content-type"] == "application/json"
