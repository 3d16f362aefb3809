"""The Qt-free API client's branch calls against a real chatapp server and the fake Ollama:
ids in answers and events, edit, regenerate (plain and streamed), switch and delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.api_client import ApiClient
from desktop.api_types import ApiClientError, StreamDelta, StreamDone, StreamStart


@pytest.fixture
def client(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    api = ApiClient(live_server.url, admin_key)
    yield api
    api.close()


def _texts(client: ApiClient, chat_id: str) -> list[str]:
    return [m.content for m in client.get_chat(chat_id).messages if m.role != "system"]


def test_answers_and_stream_events_carry_the_message_ids(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    reply = client.chat("Hi", chat_id="ids")
    messages = client.get_chat("ids").messages
    assert [reply.user_message_id, reply.message_id] == [m.id for m in messages[1:]]
    assert messages[2].parent_id == messages[1].id and messages[2].sibling_ids == [reply.message_id]
    with client.stream_chat("Again", chat_id="ids") as stream:
        events = list(stream)
    start, done = events[0], events[-1]
    assert isinstance(start, StreamStart) and isinstance(done, StreamDone)
    assert [start.user_message_id, done.message_id] == [
        m.id for m in client.get_chat("ids").messages[-2:]
    ]


def test_an_edit_is_sent_below_the_parent_it_names(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    client.chat("What is 2+2?", chat_id="edit")
    question = client.get_chat("edit").messages[1]
    with client.stream_chat("What is 2+3?", chat_id="edit", parent_id=question.parent_id) as s:
        list(s)
    edited = client.get_chat("edit").messages[1]
    assert edited.content == "What is 2+3?" and edited.sibling_ids == [question.id, edited.id]


def test_regenerate_plain_and_streamed_adds_answers_beside_the_first(
    client: ApiClient,
    fake_ollama,  # noqa: ANN001
) -> None:
    fake_ollama.tokens = ["One."]
    first = client.chat("Say a number", chat_id="regen")
    fake_ollama.tokens = ["Two."]
    second = client.regenerate("regen", first.message_id, model=fake_ollama.models[1])
    assert second.response == "Two." and second.model.endswith(fake_ollama.models[1])
    fake_ollama.tokens = ["Th", "ree."]
    with client.stream_regenerate("regen") as stream:
        events = list(stream)
    assert "".join(e.content for e in events if isinstance(e, StreamDelta)) == "Three."
    last = client.get_chat("regen").messages[-1]
    assert last.content == "Three." and last.sibling_ids[:2] == [
        first.message_id,
        second.message_id,
    ]


def test_switch_and_delete_answer_with_the_branch_left(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.tokens = ["One."]
    first = client.chat("Say a number", chat_id="tree")
    fake_ollama.tokens = ["Two."]
    second = client.regenerate("tree")
    assert [m.content for m in client.switch_branch("tree", first.message_id).messages][
        -1
    ] == "One."
    assert _texts(client, "tree") == ["Say a number", "One."]
    client.delete_branch("tree", first.message_id)
    assert _texts(client, "tree") == ["Say a number", "Two."]
    assert client.get_chat("tree").messages[-1].id == second.message_id


def test_unknown_message_ids_are_404s_that_store_nothing(client: ApiClient, fake_ollama) -> None:  # noqa: ANN001
    client.chat("Hi", chat_id="known")
    for call in (
        lambda: client.switch_branch("known", "999"),
        lambda: client.delete_branch("known", "999"),
        lambda: client.regenerate("known", "999"),
    ):
        with pytest.raises(ApiClientError) as caught:
            call()
        assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert _texts(client, "known") == ["Hi", "Hello world!"]
