"""LLM providers behind one interface; create_provider() picks one from the config.

The names in __all__ are the package's public surface: other packages import from
`chatapp.providers` only, never from its modules, which are free to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chatapp.config import default
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
from chatapp.providers.http import Timeouts
from chatapp.providers.ollama import OllamaProvider
from chatapp.providers.openai import OpenAIProvider

__all__ = [
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
    "Timeouts",
    "Usage",
    "create_provider",
]


def _ollama(config: Mapping[str, Any], timeouts: Timeouts) -> Provider:
    return OllamaProvider(config.get("OLLAMA_HOST"), timeouts=timeouts)


def _openai(config: Mapping[str, Any], timeouts: Timeouts) -> Provider:
    key = config.get("OPENAI_API_KEY")
    return OpenAIProvider(config.get("OPENAI_BASE_URL"), key, timeouts=timeouts)


def _anthropic(config: Mapping[str, Any], timeouts: Timeouts) -> Provider:
    key = config.get("ANTHROPIC_API_KEY")
    return AnthropicProvider(config.get("ANTHROPIC_BASE_URL"), key, timeouts=timeouts)


_ADAPTERS: dict[str, Callable[[Mapping[str, Any], Timeouts], Provider]] = {
    "ollama": _ollama,
    "openai": _openai,
    "anthropic": _anthropic,
}


def create_provider(config: Mapping[str, Any]) -> Provider:
    """The provider LLM_PROVIDER names, configured from the same keys as the env vars.

    Missing or None values take the defaults; ValueError for an unknown provider name.
    """
    name = str(config.get("LLM_PROVIDER") or "ollama").strip().lower()
    if name not in _ADAPTERS:
        known = ", ".join(sorted(_ADAPTERS))
        raise ValueError(f"Unknown LLM_PROVIDER {name!r}; expected one of: {known}")
    timeouts = Timeouts(_seconds(config, "LLM_CONNECT_TIMEOUT"), _seconds(config, "LLM_TIMEOUT"))
    return _ADAPTERS[name](config, timeouts)


def _seconds(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key)
    # Config values may still be strings when they come straight from the environment; the
    # default lives in config.Settings only.
    return float(value if value not in (None, "") else default(key))
