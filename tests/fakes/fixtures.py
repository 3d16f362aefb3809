"""Pytest plugin: fake_ollama, fake_openai and fake_anthropic, one server per session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TypeVar

import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import FakeServer
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

F = TypeVar("F", bound=FakeServer)


def _fresh(fake: F) -> Iterator[F]:
    # Reset on both sides: before, for a clean slate; after, to release anything the test
    # left hanging or streaming, so it can't outlive its test.
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture(scope="session")
def _fake_ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="session")
def _fake_anthropic_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def fake_ollama(_fake_ollama_server: FakeOllama) -> Iterator[FakeOllama]:
    """A running fake Ollama at .url, reset to its defaults for this test."""
    yield from _fresh(_fake_ollama_server)


@pytest.fixture
def fake_openai(_fake_openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """A running fake OpenAI-compatible server; .url includes /v1."""
    yield from _fresh(_fake_openai_server)


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    """A running fake Anthropic Messages API at .url."""
    yield from _fresh(_fake_anthropic_server)


@pytest.fixture
def dead_url() -> str:
    """A URL where nothing listens: the port was bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
