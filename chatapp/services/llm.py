"""The app's LLM provider (one per app, in `app.extensions`) and which model a request uses."""

from __future__ import annotations

from flask import Flask, current_app

from chatapp.providers import ModelInfo, Provider, create_provider

EXTENSION_KEY = "chatapp.provider"


def init_app(app: Flask) -> None:
    """Build the provider once: it owns the pooled HTTP session every request shares."""
    app.extensions[EXTENSION_KEY] = create_provider(app.config)


def provider() -> Provider:
    return current_app.extensions[EXTENSION_KEY]


def provider_name() -> str:
    return provider().name


def default_model() -> str:
    return current_app.config["LLM_MODEL"]


def resolve_model(requested: str | None) -> str:
    """The model a request names, else LLM_MODEL."""
    return requested or default_model()


def list_models() -> list[ModelInfo]:
    """The provider's models; a ProviderError becomes an API error in chatapp.errors."""
    return provider().models()
