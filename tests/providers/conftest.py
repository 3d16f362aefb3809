"""Provider test fixtures: each adapter paired with the fake that speaks its wire format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chatapp.providers import ChatOptions, Message, Provider, create_provider
from tests.fakes.base import FakeServer

KINDS = ["ollama", "openai", "anthropic"]
URL_KEYS = {"ollama": "OLLAMA_HOST", "openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
KEY_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
API_KEY = "sk-test-key"

HISTORY = [
    Message("system", "You are terse."),
    Message("user", "Hi there"),
    Message("assistant", "Hello."),
    Message("user", "Tell me a joke"),
]
NO_OPTIONS = ChatOptions()


@dataclass
class Case:
    """One provider under test: its name, its fake, and a way to build adapters for it."""

    kind: str
    fake: FakeServer
    build: Callable[..., Provider]

    @property
    def model(self) -> str:
        return self.fake.models[0]

    def provider(self, url: str | None = None, **config: Any) -> Provider:
        return self.build(self.kind, url or self.fake.url, **config)

    def chat_body(self) -> dict[str, Any]:
        """The JSON body of the last chat request the fake received."""
        chats = [r for r in self.fake.requests if r.method == "POST"]
        assert chats, "the fake received no chat request"
        return chats[-1].json

    def sent_temperature(self) -> Any:
        body = self.chat_body()
        if self.kind == "ollama":
            return (body.get("options") or {}).get("temperature")
        return body.get("temperature")


@pytest.fixture
def make_provider() -> Iterator[Callable[..., Provider]]:
    """Build adapters through create_provider, closing them all after the test."""
    made: list[Any] = []

    def build(kind: str, url: str, **config: Any) -> Provider:
        settings: dict[str, Any] = {
            "LLM_PROVIDER": kind,
            URL_KEYS[kind]: url,
            "LLM_TIMEOUT": 5,
            "LLM_CONNECT_TIMEOUT": 2,
        }
        if kind in KEY_KEYS:
            settings[KEY_KEYS[kind]] = API_KEY
        provider = create_provider({**settings, **config})
        made.append(provider)
        return provider

    yield build
    for provider in made:
        provider.close()


@pytest.fixture(params=KINDS)
def case(request: pytest.FixtureRequest, make_provider: Callable[..., Provider]) -> Case:
    """Each provider in turn, against its own fake."""
    fake = request.getfixturevalue(f"fake_{request.param}")
    return Case(request.param, fake, make_provider)


@pytest.fixture
def provider(case: Case) -> Provider:
    return case.provider()


def collect(stream: Iterator[Any]) -> list[Any]:
    """All the chunks of a stream, closing it whatever happens."""
    chunks: list[Any] = []
    try:
        for chunk in stream:
            chunks.append(chunk)
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    return chunks
