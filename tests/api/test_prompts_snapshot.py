"""A chat keeps the system prompt it started with, whatever happens to the library afterwards."""

from __future__ import annotations

from chatapp.services.prompts import DEFAULT_PROMPT_TEXT
from tests.api.chatkit import history, send


def system_text(client, user, chat_id: str) -> str:
    first = history(client, user, chat_id)["messages"][0]
    assert first["role"] == "system"
    return first["content"]


def sent_system_text(fake_ollama) -> str:
    return fake_ollama.requests[-1].json["messages"][0]["content"]


def test_changing_the_active_prompt_leaves_a_started_chat_unchanged(client, admin, fake_ollama):
    chat_id = send(client, admin, "Hi!")["chat_id"]
    client.post("/system-prompt", json={"prompt": "Answer in French."}, headers=admin.headers)
    send(client, admin, "Again", chat_id=chat_id)
    assert sent_system_text(fake_ollama) == DEFAULT_PROMPT_TEXT
    assert system_text(client, admin, chat_id) == DEFAULT_PROMPT_TEXT
    new_chat = send(client, admin, "A new chat")["chat_id"]
    assert system_text(client, admin, new_chat) == "Answer in French."


def test_activating_editing_or_deleting_prompts_leaves_a_started_chat_unchanged(
    client, admin, fake_ollama
):
    client.post(
        "/system-prompts", json={"name": "Pirate", "content": "Arr."}, headers=admin.headers
    )
    client.post("/system-prompts/pirate/activate", headers=admin.headers)
    chat_id = send(client, admin, "Ahoy")["chat_id"]
    client.put("/system-prompts/pirate", json={"content": "Yo ho."}, headers=admin.headers)
    client.post("/system-prompts/default/activate", headers=admin.headers)
    client.delete("/system-prompts/pirate", headers=admin.headers)
    send(client, admin, "Still a pirate?", chat_id=chat_id)
    assert sent_system_text(fake_ollama) == "Arr."
    assert system_text(client, admin, chat_id) == "Arr."


def test_with_no_active_prompt_a_new_chat_gets_the_builtin_default(client, admin, fake_ollama):
    client.post("/system-prompt", json={"prompt": "Custom."}, headers=admin.headers)
    client.delete("/system-prompts/default", headers=admin.headers)
    chat_id = send(client, admin, "Hi!")["chat_id"]
    assert system_text(client, admin, chat_id) == DEFAULT_PROMPT_TEXT


def test_a_new_chat_can_name_its_prompt_by_exact_name(client, admin, fake_ollama):
    chat_id = send(client, admin, "Hi!", system_prompt_id="Research Assistant")["chat_id"]
    assert system_text(client, admin, chat_id).startswith("You are a meticulous research")


def test_a_new_chat_cannot_use_another_users_prompt(client, admin, make_user, fake_ollama):
    bob = make_user("bob")
    client.post(
        "/system-prompts", json={"name": "Admin Only", "content": "Secret."}, headers=admin.headers
    )
    response = client.post(
        "/chat", json={"message": "Hi", "system_prompt_id": "admin-only"}, headers=bob.headers
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "prompt_not_found"
    assert fake_ollama.requests == []
