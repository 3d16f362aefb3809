"""POST /chat without streaming: chat IDs, the system-prompt snapshot, options, bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import SystemPrompt
from chatapp.services.prompts import BUILTIN_PROMPTS, DEFAULT_PROMPT_TEXT
from tests.api.chatkit import history, send, snapshot

PROMPTS = {builtin.slug: builtin.content for builtin in BUILTIN_PROMPTS}


def test_new_chat_gets_a_fresh_id_and_the_reply(client, admin, fake_ollama):
    body = send(client, admin, "Hi!")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", body["chat_id"])
    assert body["success"] is True
    assert body["response"] == "Hello world!"
    assert body["model"] == "llama3.1:8b-instruct-q8_0"
    assert body["usage"]["completion_tokens"] == 3
    assert body["usage"]["prompt_tokens"] > 0


def test_two_new_chats_get_different_ids(client, admin):
    assert send(client, admin, "one")["chat_id"] != send(client, admin, "two")["chat_id"]


def test_turn_is_stored_after_the_system_snapshot(client, admin):
    chat_id = send(client, admin, "Hi!")["chat_id"]
    messages = history(client, admin, chat_id)["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("system", DEFAULT_PROMPT_TEXT),
        ("user", "Hi!"),
        ("assistant", "Hello world!"),
    ]
    assert messages[2]["finish_reason"] == "stop"
    assert messages[2]["model"] == "llama3.1:8b-instruct-q8_0"
    assert "model" not in messages[1] and "finish_reason" not in messages[1]


def test_unknown_chat_id_starts_a_chat_with_that_id(client, admin):
    assert send(client, admin, "Hi!", chat_id="my-chat_1")["chat_id"] == "my-chat_1"
    assert history(client, admin, "my-chat_1")["id"] == "my-chat_1"


def test_continuing_a_chat_sends_its_history(client, admin, fake_ollama):
    chat_id = send(client, admin, "first")["chat_id"]
    send(client, admin, "second", chat_id=chat_id)
    sent = fake_ollama.requests[-1].json["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", DEFAULT_PROMPT_TEXT),
        ("user", "first"),
        ("assistant", "Hello world!"),
        ("user", "second"),
    ]
    assert len(history(client, admin, chat_id)["messages"]) == 5


def test_title_comes_from_the_first_user_message(client, admin):
    chat_id = send(client, admin, "  How do\nI bake   bread?  " + "x" * 100)["chat_id"]
    send(client, admin, "a later message", chat_id=chat_id)
    title = history(client, admin, chat_id)["title"]
    assert title.startswith("How do I bake bread? xxx")
    assert len(title) == 60 and title.endswith("…")


def test_new_chat_snapshots_the_named_prompt(client, admin, fake_ollama):
    chat_id = send(client, admin, "Hi!", system_prompt_id="code-assistant")["chat_id"]
    assert fake_ollama.requests[-1].json["messages"][0]["content"] == PROMPTS["code-assistant"]
    assert history(client, admin, chat_id)["messages"][0]["content"] == PROMPTS["code-assistant"]


def test_prompt_changes_do_not_touch_existing_chats(app, client, admin, fake_ollama):
    chat_id = send(client, admin, "Hi!")["chat_id"]
    with app.app_context():
        db.session.execute(update(SystemPrompt).values(content="Answer in French."))
        db.session.commit()
    send(client, admin, "Again", chat_id=chat_id)
    assert fake_ollama.requests[-1].json["messages"][0]["content"] == DEFAULT_PROMPT_TEXT
    send(client, admin, "A new chat")
    assert fake_ollama.requests[-1].json["messages"][0]["content"] == "Answer in French."


def test_unknown_system_prompt_id_is_404_and_creates_nothing(app, client, admin, fake_ollama):
    before = snapshot(app)
    response = client.post(
        "/chat", json={"message": "Hi", "system_prompt_id": "nope"}, headers=admin.headers
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "prompt_not_found"
    assert snapshot(app) == before
    assert fake_ollama.requests == []


def test_model_and_temperature_are_forwarded(client, admin, fake_ollama):
    body = send(client, admin, "Hi!", model="qwen2.5:7b", temperature=0.2)
    sent = fake_ollama.requests[-1].json
    assert sent["model"] == "qwen2.5:7b" and sent["options"]["temperature"] == 0.2
    assert body["model"] == "qwen2.5:7b"


def test_temperature_is_not_sent_unless_given(client, admin, fake_ollama):
    send(client, admin, "Hi!")
    assert "options" not in fake_ollama.requests[-1].json


def test_chat_records_the_model_it_last_used(client, admin):
    chat_id = send(client, admin, "Hi!")["chat_id"]
    send(client, admin, "Again", chat_id=chat_id, model="qwen2.5:7b")
    assert history(client, admin, chat_id)["model"] == "qwen2.5:7b"


@pytest.mark.parametrize(
    "chat_id", ["", "has space", "a/b", "../etc", "x" * 65, "ünï", "a.b", "a'--", "a\n", 7]
)
def test_invalid_chat_id_in_body_is_422_and_creates_nothing(app, client, admin, chat_id):
    before = snapshot(app)
    response = client.post(
        "/chat", json={"message": "Hi", "chat_id": chat_id}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "chat_id"
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": ""},
        {"message": "   \n"},
        {"message": 42},
        {"message": None},
        {"message": "Hi", "stream": "yes"},
        {"message": "Hi", "temperature": 2.5},
        {"message": "Hi", "temperature": -0.1},
        {"message": "Hi", "temperature": "hot"},
        {"message": "Hi", "model": ""},
        {"message": "Hi", "model": "two words"},
        {"message": "Hi", "system_prompt_id": ""},
        {"message": "Hi", "unknown": 1},
        {"message": ["Hi"]},
        {"message": "nul \u0000 inside"},
        {"message": "Hi", "model": "a\u0000b"},
        {"message": "Hi", "system_prompt_id": "a\u0000b"},
    ],
)
def test_bad_chat_body_is_422_and_stores_nothing(app, client, admin, fake_ollama, body):
    before = snapshot(app)
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert snapshot(app) == before
    assert fake_ollama.requests == []


def test_integer_temperature_is_accepted(client, admin, fake_ollama):
    send(client, admin, "Hi!", temperature=1)
    assert fake_ollama.requests[-1].json["options"]["temperature"] == 1


def test_sql_and_unicode_in_messages_are_stored_verbatim(client, admin):
    text = "'); DROP TABLE chats; -- 你好 🚀 \u200b"
    chat_id = send(client, admin, text)["chat_id"]
    assert history(client, admin, chat_id)["messages"][1]["content"] == text


def test_chat_needs_a_key(client):
    response = client.post("/chat", json={"message": "Hi"})
    assert response.status_code == 401
