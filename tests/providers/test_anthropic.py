"""Anthropic specifics: the system field, required headers and max_tokens, SSE events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatapp.providers import ChatOptions, Message, Provider, ProviderResponseError
from chatapp.providers.anthropic import API_VERSION, DEFAULT_MAX_TOKENS
from tests.fakes.anthropic import FakeAnthropic
from tests.providers.conftest import API_KEY, HISTORY, NO_OPTIONS, collect

MODEL = "claude-sonnet-4-5"


@pytest.fixture
def anthropic(fake_anthropic: FakeAnthropic, make_provider: Callable[..., Provider]) -> Provider:
    return make_provider("anthropic", fake_anthropic.url)


def test_system_message_goes_in_the_system_field(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    anthropic.chat(HISTORY, MODEL, NO_OPTIONS)
    body = fake_anthropic.requests[-1].json
    assert body["system"] == "You are terse."
    assert body["messages"] == [
        {"role": m.role, "content": m.content} for m in HISTORY if m.role != "system"
    ]


def test_several_system_messages_are_joined(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    history = [Message("system", "Be terse."), Message("system", "Be kind."), *HISTORY[1:]]
    anthropic.chat(history, MODEL, NO_OPTIONS)
    assert fake_anthropic.requests[-1].json["system"] == "Be terse.\n\nBe kind."


def test_no_system_message_sends_no_system_field(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    anthropic.chat(HISTORY[1:], MODEL, NO_OPTIONS)
    assert "system" not in fake_anthropic.requests[-1].json


def test_requests_carry_the_key_and_api_version(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    anthropic.chat(HISTORY, MODEL, NO_OPTIONS)
    anthropic.models()
    for request in fake_anthropic.requests:
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["anthropic-version"] == API_VERSION


def test_wrong_key_raises_response_error_with_the_upstream_message(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.api_key = "sk-ant-other"
    with pytest.raises(ProviderResponseError) as info:
        anthropic.chat(HISTORY, MODEL, NO_OPTIONS)
    assert info.value.status == 401
    assert "invalid x-api-key" in str(info.value)


@pytest.mark.parametrize(
    ("max_tokens", "sent"), [(None, DEFAULT_MAX_TOKENS), (64, 64)], ids=["default", "given"]
)
def test_max_tokens_is_always_sent(
    anthropic: Provider, fake_anthropic: FakeAnthropic, max_tokens: int | None, sent: int
) -> None:
    anthropic.chat(HISTORY, MODEL, ChatOptions(max_tokens=max_tokens))
    assert fake_anthropic.requests[-1].json["max_tokens"] == sent


@pytest.mark.parametrize(("given", "sent"), [(0.0, 0.0), (0.7, 0.7), (1.6, 1.0)])
def test_temperature_is_kept_within_anthropics_range(
    anthropic: Provider, fake_anthropic: FakeAnthropic, given: float, sent: float
) -> None:
    anthropic.chat(HISTORY, MODEL, ChatOptions(temperature=given))
    assert fake_anthropic.requests[-1].json["temperature"] == sent


def test_chat_posts_to_v1_messages(anthropic: Provider, fake_anthropic: FakeAnthropic) -> None:
    anthropic.chat(HISTORY, MODEL, NO_OPTIONS)
    assert fake_anthropic.requests[-1].path == "/v1/messages"


def test_overloaded_event_mid_stream_names_the_error(
    anthropic: Provider, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.error_after = 1
    with pytest.raises(ProviderResponseError, match="Overloaded"):
        collect(anthropic.stream(HISTORY, MODEL, NO_OPTIONS))


def test_models_carry_the_display_name(anthropic: Provider, fake_anthropic: FakeAnthropic) -> None:
    models = anthropic.models()
    assert [m.name for m in models] == fake_anthropic.models
    assert models[0].details["display_name"] == MODEL
    assert fake_anthropic.requests[-1].query["limit"] == ["1000"]
