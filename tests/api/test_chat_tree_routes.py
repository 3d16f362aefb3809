"""The tree routes in the API's frame: the LLM budget, races on one chat, and /openapi.json."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import aliased

from chatapp.extensions import db
from chatapp.models import Chat, Message
from tests.api.chatkit import history, send

# Per day, not per minute. A sliding window counts floor(the previous window's count × the share
# of it still covered + this window's count): a call made just before a minute's edge adds 0.99
# just after it, which the floor drops, and a third call got in (seen once in CI).
LLM_LIMITED = pytest.mark.parametrize(
    "app_overrides", [{"CHAT_RATE_LIMIT": "2/day"}], indirect=True
)


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict:
    return getattr(request, "param", {})


@LLM_LIMITED
def test_regenerate_spends_the_same_llm_budget_as_post_chat(client, admin):
    send(client, admin, "q1", chat_id="t")
    body = {"chat_id": "t"}
    answers = [client.post("/chat/regenerate", json=body, headers=admin.headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].get_json()["error"]["code"] == "rate_limited"


@LLM_LIMITED
def test_a_failed_regenerate_gives_its_llm_call_back(client, admin, fake_ollama):
    send(client, admin, "q1", chat_id="t")
    fake_ollama.fail_status = 503
    body = {"chat_id": "t"}
    failed = client.post("/chat/regenerate", json=body, headers=admin.headers)
    assert failed.status_code == 502
    fake_ollama.fail_status = None
    assert client.post("/chat/regenerate", json=body, headers=admin.headers).status_code == 200


def all_at_once(calls: list) -> list[requests.Response]:
    """Run each call from its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_edits_regenerates_and_deletes_racing_on_one_chat_never_give_a_500(
    app, client, admin, live_server, fake_ollama
):
    first = send(client, admin, "q1", chat_id="t")
    second = send(client, admin, "q2", chat_id="t")
    fake_ollama.first_token_delay = 0.05  # the deletes land while the turns wait on the model
    url, headers = live_server.url, admin.headers
    edit = {"message": "edited", "chat_id": "t", "parent_id": second["user_message_id"]}
    calls = [
        lambda: requests.post(f"{url}/chat", json=edit, headers=headers, timeout=60),
        lambda: requests.post(
            f"{url}/chat/regenerate", json={"chat_id": "t"}, headers=headers, timeout=60
        ),
        lambda: requests.post(
            f"{url}/chat/regenerate",
            json={"chat_id": "t", "stream": True},
            headers=headers,
            timeout=60,
        ),
        lambda: requests.delete(
            f"{url}/chat/history/t/messages/{second['user_message_id']}",
            headers=headers,
            timeout=60,
        ),
        lambda: requests.delete(
            f"{url}/chat/history/t/messages/{first['message_id']}", headers=headers, timeout=60
        ),
    ] * 2
    answers = all_at_once(calls)
    # 409: a regenerate that found a user message as the leaf, its reply deleted meanwhile
    assert {a.status_code for a in answers} <= {200, 404, 409}, [a.text for a in answers]
    streams = [a for a in answers if a.headers["Content-Type"].startswith("text/event-stream")]
    assert all("event: done" in a.text or "event: error" in a.text for a in streams)
    assert messages_whose_parent_is_elsewhere(app) == []
    history(client, admin, "t")  # still readable


def messages_whose_parent_is_elsewhere(app) -> list[int]:
    with app.app_context():
        parent = aliased(Message)
        rows = db.session.scalars(
            select(Message.id)
            .join(parent, parent.id == Message.parent_id)
            .where(parent.chat_pk != Message.chat_pk)
        ).all()
        db.session.remove()
    return list(rows)


def turn_waiting_on_the_model(live_server, user, fake_ollama, body: dict) -> tuple:
    """POST /chat from a thread; return once the provider has the request (it answers 1 s
    later), with the thread and a box for the response."""
    fake_ollama.first_token_delay = 1.0
    calls = len(fake_ollama.requests)
    box: list = []
    url = f"{live_server.url}/chat"
    thread = threading.Thread(
        target=lambda: box.append(requests.post(url, json=body, headers=user.headers, timeout=60))
    )
    thread.start()
    while len(fake_ollama.requests) == calls:
        threading.Event().wait(0.02)
    return thread, box


def test_a_chat_deleted_while_its_reply_is_written_is_404_and_leaves_nothing(
    app, client, admin, live_server, fake_ollama
):
    send(client, admin, "q1", chat_id="t")
    body = {"message": "q2", "chat_id": "t"}
    thread, box = turn_waiting_on_the_model(live_server, admin, fake_ollama, body)
    assert client.delete("/chat/delete/t", headers=admin.headers).status_code == 200
    thread.join(60)
    assert box[0].status_code == 404, box[0].text
    assert box[0].json()["error"]["code"] == "chat_not_found"
    with app.app_context():
        assert db.session.scalars(select(Chat.chat_id)).all() == []
        assert db.session.scalars(select(Message.id)).all() == []
        db.session.remove()


def test_a_branch_deleted_while_an_edit_below_it_waits_is_404_and_stores_nothing(
    client, admin, live_server, fake_ollama
):
    first = send(client, admin, "q1", chat_id="t")
    body = {"message": "q1 edited", "chat_id": "t", "parent_id": first["message_id"]}
    thread, box = turn_waiting_on_the_model(live_server, admin, fake_ollama, body)
    deleted = client.delete(
        f"/chat/history/t/messages/{first['user_message_id']}", headers=admin.headers
    )
    assert deleted.status_code == 200
    thread.join(60)
    assert box[0].status_code == 404, box[0].text
    assert box[0].json()["error"]["code"] == "not_found"
    assert [m["role"] for m in history(client, admin, "t")["messages"]] == ["system"]


# --- /openapi.json ------------------------------------------------------------------------


@pytest.fixture
def document(client) -> dict:
    return client.get("/openapi.json").get_json()


def test_the_tree_routes_are_documented_with_their_statuses(document):
    paths = document["paths"]
    regenerate = paths["/chat/regenerate"]["post"]["responses"]
    switch = paths["/chat/history/{chat_id}/switch"]["post"]["responses"]
    delete = paths["/chat/history/{chat_id}/messages/{message_id}"]["delete"]["responses"]
    assert {"200", "404", "409", "422", "429", "502"} <= set(regenerate)
    assert {"200", "404", "422"} <= set(switch)
    assert {"200", "404", "409"} <= set(delete)
    assert "text/event-stream" in regenerate["200"]["content"]


def test_the_ids_are_in_the_documented_shapes(document):
    schemas = document["components"]["schemas"]
    assert {"message_id", "user_message_id"} <= set(schemas["ChatResponse"]["required"])
    assert "user_message_id" in schemas["StreamStart"]["required"]
    assert "message_id" in schemas["StreamDone"]["required"]
    message = schemas["ChatHistoryResponse.HistoryMessage"]["properties"]
    assert {"id", "parent_id", "sibling_ids"} <= set(message)
    chat_request = schemas["ChatRequest"]
    assert "parent_id" in chat_request["properties"]
    assert chat_request["then"]["required"] == ["chat_id"]  # parent_id needs chat_id
