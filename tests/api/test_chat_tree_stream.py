"""Conversations as trees (SPEC 14), streamed: ids in `start` and `done`, and a regenerate
that fails or is left mid-stream."""

from __future__ import annotations

import pytest

from tests.api.chatkit import deltas, history, parse_sse, parse_sse_chunks, send, snapshot

TOKENS = ["A", " new", " answer"]


@pytest.fixture
def app_overrides() -> dict:
    return {"STREAM_PING_SECONDS": 0.05, "LLM_TIMEOUT": 1.0}


@pytest.fixture
def first(client, admin, fake_ollama) -> dict:
    """Chat "t" with one turn: q1 -> "Hello world!"."""
    answer = send(client, admin, "q1", chat_id="t")
    fake_ollama.tokens = list(TOKENS)
    return answer


def streamed(client, user, path: str, body: dict) -> list:
    response = client.post(path, json={**body, "stream": True}, headers=user.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return [event for event in parse_sse(response.get_data(as_text=True)) if event[0] != "ping"]


def by_id(client, user, chat_id: str) -> dict[str, dict]:
    return {m["id"]: m for m in history(client, user, chat_id)["messages"]}


def test_a_streamed_edit_names_the_ids_it_stores(client, admin, first):
    root = history(client, admin, "t")["messages"][0]["id"]
    body = {"message": "q1 edited", "chat_id": "t", "parent_id": root}
    events = streamed(client, admin, "/chat", body)
    (_, start), (_, done) = events[0], events[-1]
    shown = by_id(client, admin, "t")
    assert shown[start["user_message_id"]]["content"] == "q1 edited"
    assert shown[start["user_message_id"]]["parent_id"] == root
    assert shown[done["message_id"]]["content"] == deltas(events) == "A new answer"
    assert len(shown[start["user_message_id"]]["sibling_ids"]) == 2


def test_a_streamed_regenerate_has_the_shapes_of_a_streamed_turn(client, admin, first):
    events = streamed(client, admin, "/chat/regenerate", {"chat_id": "t"})
    assert [name for name, _ in events] == ["start", "delta", "delta", "delta", "done"]
    (_, start), (_, done) = events[0], events[-1]
    assert start == {
        "chat_id": "t",
        "model": done["model"],
        "user_message_id": first["user_message_id"],
    }
    assert done["finish_reason"] == "stop" and done["chat_id"] == "t"
    shown = by_id(client, admin, "t")
    assert shown[done["message_id"]]["content"] == "A new answer"
    assert shown[done["message_id"]]["sibling_ids"] == [first["message_id"], done["message_id"]]


def test_a_regenerate_failing_mid_stream_stores_nothing(app, client, admin, fake_ollama, first):
    before, shown = snapshot(app), history(client, admin, "t")
    fake_ollama.error_after = 1
    events = streamed(client, admin, "/chat/regenerate", {"chat_id": "t"})
    assert events[-1][0] == "error"
    assert snapshot(app) == before
    assert history(client, admin, "t") == shown


def test_a_regenerate_failing_before_its_stream_is_a_plain_error(
    app, client, admin, fake_ollama, first
):
    before = snapshot(app)
    fake_ollama.fail_status = 500
    body = {"chat_id": "t", "stream": True}
    response = client.post("/chat/regenerate", json=body, headers=admin.headers)
    assert response.status_code == 502 and response.mimetype == "application/json"
    assert snapshot(app) == before


def test_a_streamed_regenerate_left_mid_stream_is_stored_as_a_cancelled_sibling(
    client, admin, fake_ollama, first
):
    fake_ollama.tokens = [f" t{i}" for i in range(200)]
    fake_ollama.token_delay = 0.05
    body = {"chat_id": "t", "stream": True}
    response = client.post("/chat/regenerate", json=body, headers=admin.headers, buffered=False)
    received = []
    for chunk in response.response:
        received.append(chunk)
        if len([e for e in parse_sse_chunks(received) if e[0] == "delta"]) == 3:
            break
    response.close()  # the client goes away

    events = parse_sse_chunks(received)
    reply = history(client, admin, "t")["messages"][-1]
    assert reply["finish_reason"] == "cancelled"
    assert reply["content"] == deltas(events)
    assert reply["parent_id"] == events[0][1]["user_message_id"] == first["user_message_id"]
    assert reply["sibling_ids"] == [first["message_id"], reply["id"]]
    assert fake_ollama.disconnected.wait(10)


def test_a_cancelled_edit_stays_in_its_own_branch(client, admin, fake_ollama, first):
    fake_ollama.tokens = [f" t{i}" for i in range(200)]
    fake_ollama.token_delay = 0.05
    root = history(client, admin, "t")["messages"][0]["id"]
    body = {"message": "q1 edited", "chat_id": "t", "parent_id": root, "stream": True}
    response = client.post("/chat", json=body, headers=admin.headers, buffered=False)
    next(iter(response.response))
    response.close()

    messages = history(client, admin, "t")["messages"]
    assert [m["content"] for m in messages[1:2]] == ["q1 edited"]
    assert messages[-1]["finish_reason"] == "cancelled"
    assert messages[-1]["parent_id"] == messages[1]["id"]
