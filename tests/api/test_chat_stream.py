"""POST /chat streaming: SSE events, pings, mid-stream failures and a client that leaves."""

from __future__ import annotations

import threading
import time

import pytest

from tests.api.chatkit import deltas, history, parse_sse, parse_sse_chunks, snapshot, stream

TOKENS = ["The", " quick", " brown", " fox", " jumps"]


@pytest.fixture
def app_overrides() -> dict:
    return {"STREAM_PING_SECONDS": 0.05, "LLM_TIMEOUT": 1.0}


@pytest.fixture
def fake(fake_ollama):
    fake_ollama.tokens = list(TOKENS)
    return fake_ollama


def named(events, *names):
    return [(name, data) for name, data in events if name in names]


def test_streamed_deltas_joined_equal_the_stored_reply(client, admin, fake):
    events = stream(client, admin, "Tell me about foxes", chat_id="fox")
    assert deltas(events) == "The quick brown fox jumps"
    stored = history(client, admin, "fox")["messages"]
    assert [m["role"] for m in stored] == ["system", "user", "assistant"]
    assert stored[-1]["content"] == deltas(events)
    assert stored[-1]["finish_reason"] == "stop"


def test_stream_starts_with_start_and_ends_with_done(client, admin, fake):
    events = [e for e in stream(client, admin, "Hi", chat_id="c1") if e[0] != "ping"]
    name, start = events[0]
    assert name == "start" and start.pop("user_message_id")
    assert start == {"chat_id": "c1", "model": "llama3.1:8b-instruct-q8_0"}
    assert [name for name, _ in events[1:-1]] == ["delta"] * len(TOKENS)
    name, done = events[-1]
    assert name == "done"
    assert done["chat_id"] == "c1" and done["finish_reason"] == "stop" and done["message_id"]
    assert done["usage"]["completion_tokens"] == len(TOKENS)
    assert done["usage"]["prompt_tokens"] > 0


def test_stream_of_a_new_chat_names_its_fresh_id(client, admin, fake):
    events = stream(client, admin, "Hi")
    chat_id = named(events, "start")[0][1]["chat_id"]
    assert named(events, "done")[0][1]["chat_id"] == chat_id
    assert history(client, admin, chat_id)["messages"][-1]["content"] == deltas(events)


def test_stream_response_has_the_sse_headers(client, admin, fake):
    response = client.post("/chat", json={"message": "Hi", "stream": True}, headers=admin.headers)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"  # never kept, as with every key
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["X-Request-ID"]


def test_accept_event_stream_chooses_streaming(client, admin, fake):
    headers = {**admin.headers, "Accept": "text/event-stream"}
    response = client.post("/chat", json={"message": "Hi"}, headers=headers)
    assert response.mimetype == "text/event-stream"
    assert deltas(parse_sse(response.get_data(as_text=True))) == "The quick brown fox jumps"


def test_stream_false_in_the_body_wins_over_accept(client, admin, fake):
    headers = {**admin.headers, "Accept": "text/event-stream"}
    response = client.post("/chat", json={"message": "Hi", "stream": False}, headers=headers)
    assert response.mimetype == "application/json"
    assert response.get_json()["response"] == "The quick brown fox jumps"


def test_pings_flow_while_the_provider_is_silent_before_its_first_token(client, admin, fake):
    fake.first_token_delay = 0.5
    events = stream(client, admin, "Hi")
    first_delta = next(i for i, (name, _) in enumerate(events) if name == "delta")
    assert ("ping", None) in events[:first_delta]
    assert deltas(events) == "The quick brown fox jumps"


def test_pings_flow_while_the_provider_pauses_between_tokens(client, admin, fake):
    fake.tokens = ["slow", " reply"]
    fake.token_delay = 0.4
    events = [name for name, _ in stream(client, admin, "Hi")]
    assert events.index("ping") > events.index("delta")
    assert events[-1] == "done"


@pytest.mark.parametrize(
    ("knobs", "code"),
    [
        ({"error_after": 2}, "provider_error"),
        ({"drop_after": 2}, "provider_error"),
        ({"tokens": ["a", "b", "c"], "token_delay": 3.0}, "provider_timeout"),
    ],
)
def test_mid_stream_failure_ends_with_an_error_event_and_stores_nothing(
    app, client, admin, fake, knobs, code
):
    send_first = stream(client, admin, "first", chat_id="c1")
    assert named(send_first, "done")
    before = snapshot(app)
    for name, value in knobs.items():
        setattr(fake, name, value)
    events = stream(client, admin, "second", chat_id="c1")
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["code"] == code
    assert events[-1][1]["error"]["message"]
    assert not named(events, "done")
    assert snapshot(app) == before


def test_client_leaving_mid_stream_stores_the_partial_reply_as_cancelled(client, admin, fake):
    fake.tokens = [f" t{i}" for i in range(200)]
    fake.token_delay = 0.05
    body = {"message": "Long answer please", "chat_id": "c1", "stream": True}
    response = client.post("/chat", json=body, headers=admin.headers, buffered=False)
    received = []
    for chunk in response.response:
        received.append(chunk)
        if len(named(parse_sse_chunks(received), "delta")) == 3:
            break
    response.close()

    stored = history(client, admin, "c1")["messages"][-1]
    assert stored["role"] == "assistant"
    assert stored["finish_reason"] == "cancelled"
    assert stored["content"] == deltas(parse_sse_chunks(received))
    # The upstream connection is closed too, so the model stops generating.
    assert fake.disconnected.wait(10)


def test_chat_continues_after_a_cancelled_reply(client, admin, fake):
    fake.tokens = [f" t{i}" for i in range(200)]
    fake.token_delay = 0.05
    body = {"message": "first", "chat_id": "c1", "stream": True}
    response = client.post("/chat", json=body, headers=admin.headers, buffered=False)
    next(iter(response.response))
    response.close()
    fake.tokens, fake.token_delay = ["ok"], 0.0
    events = stream(client, admin, "second", chat_id="c1")
    assert deltas(events) == "ok"
    roles = [m["role"] for m in history(client, admin, "c1")["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]


def test_streams_one_after_another_reuse_the_provider_connection(client, admin, fake):
    for _ in range(3):
        earlier = set(threading.enumerate())
        stream(client, admin, "Hi", chat_id="reuse")
        wait_for_new_stream_readers(earlier)
    assert len({request.client for request in fake.requests}) == 1


def wait_for_new_stream_readers(earlier: set[threading.Thread], timeout: float = 5.0) -> None:
    """The readers finish the provider's response after the turn's last event."""
    deadline = time.monotonic() + timeout
    while any(t.name == "llm-stream" and t not in earlier for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a stream's reader is still running"
        time.sleep(0.01)
