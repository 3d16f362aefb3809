"""How every provider fails: each upstream fault becomes one typed error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatapp.providers import (
    Chunk,
    MalformedResponse,
    ModelNotFound,
    Provider,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)
from tests.providers.conftest import HISTORY, NO_OPTIONS, Case, collect

Call = Callable[[Provider, str], Any]
CALLS: dict[str, Call] = {
    "chat": lambda p, model: p.chat(HISTORY, model, NO_OPTIONS),
    "stream": lambda p, model: collect(p.stream(HISTORY, model, NO_OPTIONS)),
    "models": lambda p, model: p.models(),
    "ping": lambda p, model: p.ping(),
}
CHAT_CALLS = ["chat", "stream"]
TINY_TIMEOUT = 0.2  # read timeout for the tests that wait for one to expire


def stream_until_error(provider: Provider, model: str) -> tuple[list[Chunk], Exception]:
    """The chunks a stream gave before it raised, and what it raised."""
    chunks: list[Chunk] = []
    stream = provider.stream(HISTORY, model, NO_OPTIONS)
    try:
        for chunk in stream:
            chunks.append(chunk)
    except Exception as exc:  # noqa: BLE001 - the test inspects whatever was raised
        return chunks, exc
    finally:
        stream.close()  # type: ignore[attr-defined]
    raise AssertionError(f"the stream ended without an error after {chunks}")


@pytest.mark.parametrize("call", list(CALLS))
def test_server_not_listening_raises_unavailable(case: Case, dead_url: str, call: str) -> None:
    provider = case.provider(dead_url + case.fake.url_suffix)
    with pytest.raises(ProviderUnavailable):
        CALLS[call](provider, case.model)


@pytest.mark.parametrize("call", list(CALLS))
def test_hanging_server_raises_timeout(case: Case, call: str) -> None:
    case.fake.hang = True
    provider = case.provider(LLM_TIMEOUT=TINY_TIMEOUT)
    with pytest.raises(ProviderTimeout):
        CALLS[call](provider, case.model)


def test_hanging_request_is_abandoned_after_the_timeout(case: Case) -> None:
    case.fake.hang = True
    with pytest.raises(ProviderTimeout):
        case.provider(LLM_TIMEOUT=TINY_TIMEOUT).chat(HISTORY, case.model, NO_OPTIONS)
    assert case.fake.disconnected.wait(5)


def test_stalling_stream_raises_timeout_after_the_first_chunks(case: Case) -> None:
    case.fake.tokens = ["one", "two"]
    case.fake.token_delay = 5
    chunks, exc = stream_until_error(case.provider(LLM_TIMEOUT=TINY_TIMEOUT), case.model)
    assert [c.content for c in chunks] == ["one"]
    assert isinstance(exc, ProviderTimeout)


@pytest.mark.parametrize("call", CHAT_CALLS)
def test_unknown_model_raises_model_not_found(case: Case, call: str) -> None:
    with pytest.raises(ModelNotFound) as info:
        CALLS[call](case.provider(), "no-such-model")
    assert info.value.model == "no-such-model"
    assert "no-such-model" in str(info.value)


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("call", list(CALLS))
def test_error_status_raises_response_error_with_upstream_message(
    case: Case, call: str, status: int
) -> None:
    case.fake.fail_status = status
    case.fake.error_message = f"upstream says no ({status})"
    with pytest.raises(ProviderResponseError) as info:
        CALLS[call](case.provider(), case.model)
    assert info.value.status == status
    assert f"upstream says no ({status})" in str(info.value)
    assert not isinstance(info.value, MalformedResponse)


def test_error_status_without_json_body_still_raises_response_error(case: Case) -> None:
    provider = case.provider(case.fake.url + "/wrong/prefix")
    with pytest.raises(ProviderResponseError) as info:
        provider.chat(HISTORY, case.model, NO_OPTIONS)
    assert info.value.status == 404
    assert not isinstance(info.value, ModelNotFound)


def test_error_frame_mid_stream_raises_after_the_first_chunks(case: Case) -> None:
    case.fake.tokens = ["a", "b", "c", "d"]
    case.fake.error_after = 2
    case.fake.error_message = "the GPU caught fire"
    chunks, exc = stream_until_error(case.provider(), case.model)
    assert [c.content for c in chunks] == ["a", "b"]
    assert isinstance(exc, ProviderResponseError)
    assert "the GPU caught fire" in str(exc)


def test_failure_during_generation_without_streaming_raises_response_error(case: Case) -> None:
    case.fake.error_after = 1
    with pytest.raises(ProviderResponseError):
        case.provider().chat(HISTORY, case.model, NO_OPTIONS)


def test_connection_dropped_mid_stream_raises_response_error(case: Case) -> None:
    case.fake.tokens = ["a", "b", "c"]
    case.fake.drop_after = 2
    chunks, exc = stream_until_error(case.provider(), case.model)
    assert [c.content for c in chunks] == ["a", "b"]
    assert type(exc) is ProviderResponseError


@pytest.mark.parametrize("call", list(CALLS))
def test_malformed_body_raises_malformed_response(case: Case, call: str) -> None:
    case.fake.malformed = True
    with pytest.raises(MalformedResponse):
        CALLS[call](case.provider(), case.model)


def test_closing_the_stream_early_closes_the_upstream_connection(case: Case) -> None:
    case.fake.tokens = ["x"] * 1000
    case.fake.token_delay = 0.01
    stream = case.provider().stream(HISTORY, case.model, NO_OPTIONS)
    assert next(stream).content == "x"
    stream.close()  # type: ignore[attr-defined]
    assert case.fake.disconnected.wait(5)


def test_provider_works_again_after_a_failure(case: Case) -> None:
    provider = case.provider()
    case.fake.fail_status = 503
    with pytest.raises(ProviderResponseError):
        provider.chat(HISTORY, case.model, NO_OPTIONS)
    case.fake.fail_status = None
    assert provider.chat(HISTORY, case.model, NO_OPTIONS).content == "Hello world!"
