"""The LLM gets the history cut to MAX_CONTEXT_CHARS; a message over MAX_MESSAGE_CHARS is 422."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import SystemPrompt
from tests.api.chatkit import history, send, snapshot

SYSTEM = "Be brief."  # 9 characters


@pytest.fixture
def app_overrides() -> dict:
    return {"MAX_CONTEXT_CHARS": 60, "MAX_MESSAGE_CHARS": 40}


@pytest.fixture
def short_prompt(app, admin):
    with app.app_context():
        db.session.execute(update(SystemPrompt).values(content=SYSTEM))
        db.session.commit()


def sent_messages(fake_ollama) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake_ollama.requests[-1].json["messages"]]


def test_oldest_turns_are_cut_first_and_the_system_prompt_is_kept(
    client, admin, fake_ollama, short_prompt
):
    fake_ollama.tokens = ["ok"]
    for text in ("first-turn-message", "second-turn-message", "third-turn-message"):
        send(client, admin, text, chat_id="c1")
    send(client, admin, "fourth", chat_id="c1")
    # 9 (system) + 6 (new) leave 45: the two newest turns (21 + 20) fit, the oldest doesn't.
    assert sent_messages(fake_ollama) == [
        ("system", SYSTEM),
        ("user", "second-turn-message"),
        ("assistant", "ok"),
        ("user", "third-turn-message"),
        ("assistant", "ok"),
        ("user", "fourth"),
    ]
    assert len(history(client, admin, "c1")["messages"]) == 9  # the cut is for the LLM only


def test_a_message_that_fills_the_context_is_sent_with_the_system_prompt_alone(
    client, admin, fake_ollama, short_prompt
):
    send(client, admin, "earlier", chat_id="c1")
    send(client, admin, "x" * 40, chat_id="c1")
    assert sent_messages(fake_ollama) == [("system", SYSTEM), ("user", "x" * 40)]


def test_message_over_max_message_chars_is_422_and_stores_nothing(app, client, admin, fake_ollama):
    before = snapshot(app)
    response = client.post("/chat", json={"message": "x" * 41}, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "message"
    assert snapshot(app) == before
    assert fake_ollama.requests == []
