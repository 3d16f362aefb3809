"""LLM providers behind one interface; create_provider() picks one from the config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chatapp.providers.anthropic import AnthropicProvider
from chatapp.providers.base import (
    ChatOptions,
    Chunk,
    MalformedResponse,
    Message,
    ModelInfo,
    ModelNotFound,
    Provider,
    ProviderError,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
    Reply,
    Usage,
)
from chatapp.providers.ollama import OllamaProvider
from chatapp.providers.openai import OpenAIProvider

__all__ = [
    "PROVIDERS",
    "AnthropicProvider",
    "ChatOptions",
    "Chunk",
    "MalformedResponse",
    "Message",
    "ModelInfo",
    "ModelNotFound",
    "OllamaProvider",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "ProviderResponseError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "Reply",
    "Usage",
    "create_provider",
]

DEFAULT_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 5.0


def _ollama(config: Mapping[str, Any], timeouts: dict[str, float]) -> Provider:
    return OllamaProvider(config.get("OLLAMA_HOST"), **timeouts)


def _openai(config: Mapping[str, Any], timeouts: dict[str, float]) -> Provider:
    return OpenAIProvider(config.get("OPENAI_BASE_URL"), config.get("OPENAI_API_KEY"), **timeouts)


def _anthropic(config: Mapping[str, Any], timeouts: dict[str, float]) -> Provider:
    return AnthropicProvider(
        config.get("ANTHROPIC_BASE_URL"), config.get("ANTHROPIC_API_KEY"), **timeouts
    )


PROVIDERS: dict[str, Callable[[Mapping[str, Any], dict[str, float]], Provider]] = {
    "ollama": _ollama,
    "openai": _openai,
    "anthropic": _anthropic,
}


def create_provider(config: Mapping[str, Any]) -> Provider:
    """The provider LLM_PROVIDER names, configured from the same keys as the env vars.

    Missing or None values take the defaults; ValueError for an unknown provider name.
    """
    name = str(config.get("LLM_PROVIDER") or "ollama").strip().lower()
    if name not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"Unknown LLM_PROVIDER {name!r}; expected one of: {known}")
    timeouts = {
        "read_timeout": _seconds(config, "LLM_TIMEOUT", DEFAULT_TIMEOUT),
        "connect_timeout": _seconds(config, "LLM_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
    }
    return PROVIDERS[name](config, timeouts)


def _seconds(config: Mapping[str, Any], key: str, default: float) -> float:
    value = config.get(key)
    # Config values may still be strings when they come straight from the environment.
    return float(value) if value not in (None, "") else default
