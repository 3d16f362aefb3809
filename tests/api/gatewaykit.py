"""Helpers for the gateway tests: the official openai SDK, raw requests and `data:` streams."""

from __future__ import annotations

import json
from typing import Any

import openai
from flask.testing import FlaskClient

from tests.conftest import LiveServer, TestUser

HELLO = [{"role": "user", "content": "Hello"}]
PATH = "/v1/chat/completions"


def sdk(server: LiveServer, key: str) -> openai.OpenAI:
    """The official client pointed at our /v1, without retries, so each call is one request."""
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=30)


def sdk_chunks(server: LiveServer, key: str, **fields: Any) -> list[Any]:
    """A completion streamed through the SDK and read to its end; the default model answers."""
    fields = {"model": "llama3.1:8b-instruct-q8_0", "messages": HELLO, **fields}
    return list(sdk(server, key).chat.completions.create(stream=True, **fields))


def post(client: FlaskClient, user: TestUser, /, **body: Any):
    """POST /v1/chat/completions with the test client; `messages` defaults to one greeting."""
    return client.post(PATH, json={"messages": HELLO, **body}, headers=user.headers)


def data_events(text: str) -> list[Any]:
    """The stream's `data:` payloads, decoded (except "[DONE]"), and "ping" for each comment."""
    events: list[Any] = []
    for block in filter(None, text.split("\n\n")):
        if block == ": ping":
            events.append("ping")
        else:
            assert block.startswith("data: "), block
            payload = block[len("data: ") :]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def streamed(client: FlaskClient, user: TestUser, /, **body: Any) -> list[Any]:
    """A streamed completion that started (status 200), as its `data:` events."""
    response = post(client, user, stream=True, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return data_events(response.get_data(as_text=True))


def chunk_text(events: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for event in events
        if isinstance(event, dict) and "choices" in event
        for choice in event["choices"]
    )
