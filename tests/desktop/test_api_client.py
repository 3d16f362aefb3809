"""The Qt-free API client against a real chatapp server and the fake Ollama."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from desktop.api_client import ApiClient
from desktop.api_types import ApiClientError, StreamDelta, StreamDone, StreamStart


@pytest.fixture
def client(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    api = ApiClient(live_server.url, admin_key)
    yield api
    api.close()


def _wait_for(condition, timeout: float = 15.0) -> None:  # noqa: ANN001
    """Poll a condition the server reaches on its own (no Qt event loop here)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was never met"
        time.sleep(0.05)


def _messages(client: ApiClient, chat_id: str) -> int:
    """How many messages the server has stored for the chat (0 while it does not exist)."""
    try:
        return len(client.get_chat(chat_id).messages)
    except ApiClientError:
        return 0


def test_me_names_the_user_and_records_the_rate_limit(client: ApiClient) -> None:
    assert client.me().username == "admin"
    assert client.rate_limit is not None and client.rate_limit.remaining >= 0


def test_a_bad_key_raises_the_servers_401(live_server) -> None:  # noqa: ANN001
    with pytest.raises(ApiClientError) as caught:
        ApiClient(live_server.url, "ck_" + "x" * 40).me()
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")


def test_no_server_is_a_connection_error_without_status(dead_url: str) -> None:
    with pytest.raises(ApiClientError) as caught:
        ApiClient(dead_url, "ck_x").me()
    assert (caught.value.status, caught.value.code) == (None, "connection_error")


def test_stream_yields_start_deltas_and_done(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.tokens = ["Hel", "lo", "!"]
    events = list(client.stream_chat("hi", chat_id="streamed"))
    assert isinstance(events[0], StreamStart) and events[0].chat_id == "streamed"
    assert [e.content for e in events if isinstance(e, StreamDelta)] == ["Hel", "lo", "!"]
    assert isinstance(events[-1], StreamDone) and events[-1].finish_reason == "stop"
    assert events[-1].usage.completion_tokens == 3
    history = client.get_chat("streamed").messages
    assert [m.role for m in history][-2:] == ["user", "assistant"]


def test_deltas_arrive_while_the_reply_is_still_streaming(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.tokens = ["a", "b", "c", "d"]
    fake_ollama.token_delay = 0.3
    stream = iter(client.stream_chat("hi"))
    started = time.monotonic()
    while not isinstance(next(stream), StreamDelta):
        pass
    assert time.monotonic() - started < 1.0  # the first token, not the whole reply (1.2 s)
    assert any(isinstance(e, StreamDone) for e in stream)


def test_cancel_from_another_thread_ends_the_stream_and_keeps_the_partial_reply(
    client: ApiClient,
    fake_ollama,  # noqa: ANN001
) -> None:
    fake_ollama.tokens = [f"t{i} " for i in range(50)]
    fake_ollama.token_delay = 0.1
    stream = client.stream_chat("count", chat_id="cancelled")
    deltas = []
    for event in stream:
        if isinstance(event, StreamDelta):
            deltas.append(event.content)
            if len(deltas) == 3:
                threading.Thread(target=stream.cancel).start()
    assert 3 <= len(deltas) < 50
    _wait_for(lambda: _messages(client, "cancelled") >= 2)
    reply = client.get_chat("cancelled").messages[-1]
    assert reply.finish_reason == "cancelled" and reply.content.startswith("t0 t1 t2")


def test_an_in_band_stream_error_raises(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.error_after = 1
    with pytest.raises(ApiClientError) as caught:
        list(client.stream_chat("hi"))
    assert caught.value.code.startswith("provider_")


def test_an_invalid_chat_id_is_a_validation_error(client: ApiClient) -> None:
    with pytest.raises(ApiClientError) as caught:
        client.get_chat("not a valid id!")
    assert (caught.value.status, caught.value.code) == (422, "validation_error")


def test_chats_can_be_listed_searched_renamed_exported_and_deleted(client: ApiClient) -> None:
    client.chat("about penguins", chat_id="one")
    client.chat("about tigers", chat_id="two")
    assert [c.id for c in client.list_chats()] == ["two", "one"]
    assert [c.id for c in client.list_chats(q="penguins")] == ["one"]
    client.rename_chat("one", "Birds")
    assert client.get_chat("one").title == "Birds"
    markdown = client.export_chat("one", "markdown")
    assert b"penguins" in markdown.content and markdown.filename
    assert b"penguins" in client.export_chat("one", "json").content
    client.delete_chat("one")
    with pytest.raises(ApiClientError) as caught:
        client.get_chat("one")
    assert caught.value.code == "chat_not_found"


def test_prompts_can_be_created_updated_activated_and_deleted(client: ApiClient) -> None:
    created = client.create_prompt("Pirate", "Talk like a pirate.", "Arr")
    prompt_id = created.id
    client.update_prompt(prompt_id, content="Talk like a polite pirate.")
    client.activate_prompt(prompt_id)
    active = client.active_prompt()
    assert (active.prompt_id, active.prompt) == (prompt_id, "Talk like a polite pirate.")
    assert {p.id: p.is_active for p in client.list_prompts()}[prompt_id]
    client.delete_prompt(prompt_id)
    assert prompt_id not in {p.id for p in client.list_prompts()}


def test_keys_can_be_created_and_revoked(client: ApiClient, live_server) -> None:  # noqa: ANN001
    created = client.create_key("laptop")
    second = ApiClient(live_server.url, created.api_key)
    assert second.me().username == "admin"
    client.revoke_key(created.key.prefix)
    with pytest.raises(ApiClientError):
        second.me()
    assert any(k.prefix == created.key.prefix for k in client.list_keys())


def test_health_needs_no_key(live_server) -> None:  # noqa: ANN001
    assert ApiClient(live_server.url, "").health().status in ("ok", "degraded")


def test_the_active_prompt_text_can_be_replaced(client: ApiClient) -> None:
    client.set_active_prompt_content("Answer in French.")
    assert client.active_prompt().prompt == "Answer in French."


def test_an_admin_manages_users(client: ApiClient, live_server) -> None:  # noqa: ANN001
    created = client.create_user("bob", rate_limit_per_hour=50)
    bob = ApiClient(live_server.url, created.api_key)
    assert bob.me().username == "bob"
    client.update_user("bob", is_active=False)
    with pytest.raises(ApiClientError) as caught:
        bob.me()
    assert caught.value.status == 401
    assert "bob" in {u.username for u in client.list_users()}
    client.delete_user("bob")
    assert "bob" not in {u.username for u in client.list_users()}
