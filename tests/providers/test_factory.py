"""create_provider: which adapter the config picks, and how it reads the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatapp.providers import (
    AnthropicProvider,
    OllamaProvider,
    OpenAIProvider,
    Provider,
    create_provider,
)


@pytest.fixture
def created() -> Iterator[list[Any]]:
    """Providers made by a test, closed after it."""
    providers: list[Any] = []
    yield providers
    for provider in providers:
        provider.close()


def make(created: list[Any], config: dict[str, Any]) -> Any:
    provider = create_provider(config)
    created.append(provider)
    return provider


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("ollama", OllamaProvider),
        ("openai", OpenAIProvider),
        ("anthropic", AnthropicProvider),
        (" OpenAI ", OpenAIProvider),
        (None, OllamaProvider),
        ("", OllamaProvider),
    ],
)
def test_llm_provider_picks_the_adapter(created: list[Any], name: str | None, cls: type) -> None:
    provider = make(created, {"LLM_PROVIDER": name})
    assert isinstance(provider, cls)
    assert isinstance(provider, Provider)


def test_no_llm_provider_means_ollama(created: list[Any]) -> None:
    assert isinstance(make(created, {}), OllamaProvider)


@pytest.mark.parametrize("name", ["llamacpp", "gemini", "ollama2"])
def test_unknown_provider_name_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        create_provider({"LLM_PROVIDER": name})


@pytest.mark.parametrize(
    ("name", "attribute", "default"),
    [
        ("ollama", "host", "http://127.0.0.1:11434"),
        ("openai", "base_url", "https://api.openai.com/v1"),
        ("anthropic", "base_url", "https://api.anthropic.com"),
    ],
)
def test_urls_default_to_the_public_endpoints(
    created: list[Any], name: str, attribute: str, default: str
) -> None:
    assert getattr(make(created, {"LLM_PROVIDER": name}), attribute) == default


def test_timeouts_default_to_120_seconds_read_and_5_connect(created: list[Any]) -> None:
    provider = make(created, {"LLM_PROVIDER": "ollama"})
    assert provider._http.timeout == (5.0, 120.0)


def test_timeouts_are_read_from_strings_as_the_environment_gives_them(
    created: list[Any],
) -> None:
    config = {"LLM_PROVIDER": "openai", "LLM_TIMEOUT": "30", "LLM_CONNECT_TIMEOUT": "1.5"}
    assert make(created, config)._http.timeout == (1.5, 30.0)


def test_trailing_slash_on_a_base_url_is_ignored(created: list[Any]) -> None:
    config = {"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": "http://localhost:8000/v1/"}
    assert make(created, config).base_url == "http://localhost:8000/v1"
