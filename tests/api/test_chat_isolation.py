"""User B can't read, continue, rename, export or delete user A's chat: it doesn't exist for B."""

from __future__ import annotations

import pytest

from chatapp.services.prompts import DEFAULT_PROMPT_TEXT
from tests.api.chatkit import history, send, snapshot

A_CHAT = "shared-id"
MISSING = "never-existed"

OPERATIONS = {
    "read": ("GET", "/chat/history/{id}", None),
    "rename": ("PATCH", "/chat/history/{id}", {"title": "taken over"}),
    "export markdown": ("GET", "/chat/history/{id}/export", None),
    "export json": ("GET", "/chat/history/{id}/export?format=json", None),
    "delete": ("DELETE", "/chat/delete/{id}", None),
}


@pytest.fixture
def alice_chat(client, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    send(client, alice, "alice's secret plan", chat_id=A_CHAT)
    return alice, bob


def call(client, user, operation, chat_id):
    method, path, body = OPERATIONS[operation]
    return client.open(path.format(id=chat_id), method=method, json=body, headers=user.headers)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_other_users_chat_answers_exactly_like_a_missing_one(app, client, alice_chat, operation):
    alice, bob = alice_chat
    before = snapshot(app)
    theirs = call(client, bob, operation, A_CHAT)
    missing = call(client, bob, operation, MISSING)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json() == {
        "success": False,
        "error": {"code": "chat_not_found", "message": f"Chat '{A_CHAT}' not found"},
        "detail": f"Chat '{A_CHAT}' not found",
    }
    assert missing.get_json()["error"]["message"] == f"Chat '{MISSING}' not found"
    assert snapshot(app) == before


def test_other_users_chat_id_starts_a_separate_chat(app, client, alice_chat, fake_ollama):
    alice, bob = alice_chat
    assert send(client, bob, "bob's question", chat_id=A_CHAT)["chat_id"] == A_CHAT
    sent = fake_ollama.requests[-1].json["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", DEFAULT_PROMPT_TEXT),
        ("user", "bob's question"),
    ]
    alice_contents = [m["content"] for m in history(client, alice, A_CHAT)["messages"]]
    bob_contents = [m["content"] for m in history(client, bob, A_CHAT)["messages"]]
    assert "bob's question" not in alice_contents
    assert "alice's secret plan" not in bob_contents
    assert len(alice_contents) == len(bob_contents) == 3


def test_deleting_ones_own_chat_leaves_the_other_users_same_id(client, alice_chat):
    alice, bob = alice_chat
    send(client, bob, "bob's question", chat_id=A_CHAT)
    assert client.delete(f"/chat/delete/{A_CHAT}", headers=bob.headers).status_code == 200
    assert history(client, alice, A_CHAT)["messages"][1]["content"] == "alice's secret plan"


def test_list_and_search_show_only_ones_own_chats(client, alice_chat):
    alice, bob = alice_chat
    send(client, bob, "bob's own chat", chat_id="bobs")
    listing = client.get("/chat/history", headers=bob.headers).get_json()
    assert list(listing["chats"]) == ["bobs"] and listing["total"] == 1
    found = client.get("/chat/history?q=secret", headers=bob.headers).get_json()
    assert found["chats"] == {} and found["total"] == 0
