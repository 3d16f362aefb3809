"""OpenAI-compatible specifics: the key, stream_options, and defensive SSE parsing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatapp.providers import ChatOptions, Provider, ProviderResponseError, Usage
from tests.fakes.openai import FakeOpenAI
from tests.providers.conftest import API_KEY, HISTORY, NO_OPTIONS, collect

MODEL = "gpt-4o-mini"


@pytest.fixture
def openai(fake_openai: FakeOpenAI, make_provider: Callable[..., Provider]) -> Provider:
    return make_provider("openai", fake_openai.url)


def test_requests_carry_the_key_as_a_bearer_token(
    openai: Provider, fake_openai: FakeOpenAI
) -> None:
    openai.chat(HISTORY, MODEL, NO_OPTIONS)
    openai.models()
    assert {r.headers["Authorization"] for r in fake_openai.requests} == {f"Bearer {API_KEY}"}


def test_no_key_sends_no_authorization_header(
    fake_openai: FakeOpenAI, make_provider: Callable[..., Provider]
) -> None:
    # Local OpenAI-compatible servers (llama.cpp, vLLM) usually need no key.
    make_provider("openai", fake_openai.url, OPENAI_API_KEY=None).chat(HISTORY, MODEL, NO_OPTIONS)
    assert "Authorization" not in fake_openai.requests[-1].headers


def test_wrong_key_raises_response_error_with_the_upstream_message(
    openai: Provider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.api_key = "sk-other"
    with pytest.raises(ProviderResponseError) as info:
        openai.chat(HISTORY, MODEL, NO_OPTIONS)
    assert info.value.status == 401
    assert "Incorrect API key" in str(info.value)


def test_chat_posts_to_chat_completions_under_the_base_url(
    openai: Provider, fake_openai: FakeOpenAI
) -> None:
    openai.chat(HISTORY, MODEL, NO_OPTIONS)
    assert fake_openai.requests[-1].path == "/v1/chat/completions"


def test_messages_are_sent_in_order_with_their_roles(
    openai: Provider, fake_openai: FakeOpenAI
) -> None:
    openai.chat(HISTORY, MODEL, NO_OPTIONS)
    sent = fake_openai.requests[-1].json["messages"]
    assert sent == [{"role": m.role, "content": m.content} for m in HISTORY]


def test_options_are_top_level_fields(openai: Provider, fake_openai: FakeOpenAI) -> None:
    openai.chat(HISTORY, MODEL, ChatOptions(temperature=1.5, max_tokens=64))
    body = fake_openai.requests[-1].json
    assert (body["temperature"], body["max_tokens"]) == (1.5, 64)


def test_stream_asks_for_usage(openai: Provider, fake_openai: FakeOpenAI) -> None:
    collect(openai.stream(HISTORY, MODEL, NO_OPTIONS))
    assert fake_openai.requests[-1].json["stream_options"] == {"include_usage": True}


def test_chat_does_not_send_stream_options(openai: Provider, fake_openai: FakeOpenAI) -> None:
    openai.chat(HISTORY, MODEL, NO_OPTIONS)
    assert "stream_options" not in fake_openai.requests[-1].json


def test_usage_chunk_with_null_choices_is_understood(
    openai: Provider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.null_choices = True
    chunks = collect(openai.stream(HISTORY, MODEL, NO_OPTIONS))
    assert "".join(c.content for c in chunks) == "Hello world!"
    prompt_words = sum(len(m.content.split()) for m in HISTORY)
    assert chunks[-1].usage == Usage(prompt_tokens=prompt_words, completion_tokens=3)


def test_models_come_from_the_data_list(openai: Provider, fake_openai: FakeOpenAI) -> None:
    models = openai.models()
    assert [m.name for m in models] == fake_openai.models
    assert models[0].details["owned_by"] == "fake"
    assert fake_openai.requests[-1].path == "/v1/models"
