"""Building adapters: one of a kind from a URL and key, or the one the section 3 variables name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatapp.config import default
from chatapp.providers.anthropic import AnthropicProvider
from chatapp.providers.base import Provider
from chatapp.providers.http import Timeouts
from chatapp.providers.ollama import OllamaProvider
from chatapp.providers.openai import OpenAIProvider


def make_provider(
    kind: str,
    base_url: str | None,
    api_key: str | None,
    timeouts: Timeouts,
    name: str | None = None,
) -> Provider:
    """An adapter of `kind` ("ollama", "openai" or "anthropic"); None takes its default URL.

    `name` (default: the kind) is how its errors name it, e.g. a providers file's name for it.
    """
    name = name or kind
    if kind == "ollama":
        return OllamaProvider(base_url, timeouts=timeouts, name=name)
    if kind == "openai":
        return OpenAIProvider(base_url, api_key, timeouts=timeouts, name=name)
    if kind == "anthropic":
        return AnthropicProvider(base_url, api_key, timeouts=timeouts, name=name)
    raise ValueError(f"Unknown provider type {kind!r}; expected one of: {', '.join(KINDS)}")


KINDS = ("ollama", "openai", "anthropic")
# Where the section 3 variables keep each kind's URL and key.
_URL_SETTINGS = {
    "ollama": "OLLAMA_HOST",
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
}
_KEY_SETTINGS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def timeouts_from(config: Mapping[str, Any]) -> Timeouts:
    """LLM_CONNECT_TIMEOUT and LLM_TIMEOUT."""
    return Timeouts(_seconds(config, "LLM_CONNECT_TIMEOUT"), _seconds(config, "LLM_TIMEOUT"))


def create_provider(config: Mapping[str, Any]) -> Provider:
    """The provider LLM_PROVIDER names, configured from the same keys as the env vars.

    Missing or None values take the defaults; ValueError for an unknown provider name.
    """
    kind = str(config.get("LLM_PROVIDER") or "ollama").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"Unknown LLM_PROVIDER {kind!r}; expected one of: {', '.join(KINDS)}")
    url = config.get(_URL_SETTINGS[kind])
    key = config.get(_KEY_SETTINGS[kind]) if kind in _KEY_SETTINGS else None
    return make_provider(kind, url, key, timeouts_from(config))


def _seconds(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key)
    # Config values may still be strings when they come straight from the environment; the
    # default lives in config.Settings only.
    return float(value if value not in (None, "") else default(key))
