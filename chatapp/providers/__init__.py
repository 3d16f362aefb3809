"""LLM providers behind one interface; create_registry() builds the configured ones.

The names in __all__ are the package's public surface: other packages import from
`chatapp.providers` only, never from its modules, which are free to change.
"""

from __future__ import annotations

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
    ToolCall,
    Usage,
)
from chatapp.providers.factory import create_provider
from chatapp.providers.http import Timeouts
from chatapp.providers.ollama import OllamaProvider
from chatapp.providers.openai import OpenAIProvider
from chatapp.providers.providers_file import ProvidersFileError
from chatapp.providers.registry import NamedProvider, Registry, Route, create_registry

__all__ = [
    "AnthropicProvider",
    "ChatOptions",
    "Chunk",
    "MalformedResponse",
    "Message",
    "ModelInfo",
    "ModelNotFound",
    "NamedProvider",
    "OllamaProvider",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "ProviderResponseError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ProvidersFileError",
    "Registry",
    "Reply",
    "Route",
    "Timeouts",
    "ToolCall",
    "Usage",
    "create_provider",
    "create_registry",
]
