"""Conversations as trees (SPEC 14), answered as JSON: edit, regenerate, switch, delete."""

from __future__ import annotations

import pytest

from tests.api.chatkit import history, send, snapshot

SYSTEM_ROLE = "system"


def sent(fake_ollama) -> list[tuple[str, str]]:
    """The context of the provider's last request, as (role, content) pairs."""
    return [(m["role"], m["content"]) for m in fake_ollama.requests[-1].json["messages"]]


def contents(client, user, chat_id: str) -> list[str]:
    """The current branch's user and assistant messages."""
    shown = history(client, user, chat_id)["messages"]
    return [m["content"] for m in shown if m["role"] != SYSTEM_ROLE]


def by_content(client, user, chat_id: str) -> dict[str, dict]:
    return {m["content"]: m for m in history(client, user, chat_id)["messages"]}


def regenerate(client, user, **body) -> dict:
    response = client.post("/chat/regenerate", json=body, headers=user.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def switch(client, user, chat_id: str, message_id: str):
    body = {"message_id": message_id}
    return client.post(f"/chat/history/{chat_id}/switch", json=body, headers=user.headers)


def delete(client, user, chat_id: str, message_id: str):
    return client.delete(f"/chat/history/{chat_id}/messages/{message_id}", headers=user.headers)


@pytest.fixture
def replies(fake_ollama):
    """The fake answers "r1", "r2", ... in turn, so each stored reply can be told apart."""
    answers = iter(f"r{n}" for n in range(1, 100))

    def next_reply() -> None:
        fake_ollama.tokens = [next(answers)]

    return next_reply


@pytest.fixture
def two_turns(client, admin, replies) -> tuple[dict, dict]:
    """Chat "t": q1 -> r1 -> q2 -> r2, each answer as POST /chat gave it."""
    replies()
    first = send(client, admin, "q1", chat_id="t")
    replies()
    second = send(client, admin, "q2", chat_id="t")
    return first, second


# --- the history's new fields -------------------------------------------------------------


def test_a_linear_chat_shows_ids_parents_and_lone_siblings(client, admin, two_turns):
    messages = history(client, admin, "t")["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[0]["parent_id"] is None
    for parent, message in zip(messages, messages[1:], strict=False):
        assert message["parent_id"] == parent["id"]
    assert all(m["sibling_ids"] == [m["id"]] for m in messages)
    assert all(isinstance(m["id"], str) for m in messages)


def test_answers_name_the_stored_reply_and_user_message(client, admin, two_turns):
    _, second = two_turns
    shown = by_content(client, admin, "t")
    assert second["message_id"] == shown["r2"]["id"]
    assert second["user_message_id"] == shown["q2"]["id"]


# --- edit and resend ----------------------------------------------------------------------


def test_edit_sends_the_path_to_the_parent_and_the_new_message(
    client, admin, fake_ollama, two_turns, replies
):
    first, _ = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    system = sent(fake_ollama)[0]
    assert system[0] == SYSTEM_ROLE
    assert sent(fake_ollama) == [system, ("user", "q1"), ("assistant", "r1"), ("user", "q2 edited")]


def test_edit_makes_a_sibling_of_the_old_message_and_its_branch_current(
    client, admin, two_turns, replies
):
    first, second = two_turns
    replies()
    edited = send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    assert contents(client, admin, "t") == ["q1", "r1", "q2 edited", "r3"]
    shown = by_content(client, admin, "t")
    assert shown["q2 edited"]["id"] == edited["user_message_id"]
    assert shown["q2 edited"]["parent_id"] == first["message_id"]
    # oldest first, itself included
    assert shown["q2 edited"]["sibling_ids"] == [
        second["user_message_id"],
        edited["user_message_id"],
    ]
    assert shown["r3"]["sibling_ids"] == [edited["message_id"]]


def test_editing_the_first_message_follows_the_system_root(client, admin, fake_ollama, two_turns):
    root = history(client, admin, "t")["messages"][0]
    send(client, admin, "q1 again", chat_id="t", parent_id=root["id"])
    assert [role for role, _ in sent(fake_ollama)] == ["system", "user"]
    shown = history(client, admin, "t")["messages"]
    assert [m["content"] for m in shown[1:2]] == ["q1 again"]
    assert len(shown[1]["sibling_ids"]) == 2


def test_continuing_after_an_edit_follows_the_new_branch(client, admin, two_turns, replies):
    first, _ = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    replies()
    send(client, admin, "q3", chat_id="t")
    assert contents(client, admin, "t") == ["q1", "r1", "q2 edited", "r3", "q3", "r4"]


# --- regenerate ---------------------------------------------------------------------------


def test_regenerate_sends_the_path_to_the_user_message_without_the_old_reply(
    client, admin, fake_ollama, two_turns, replies
):
    replies()
    regenerate(client, admin, chat_id="t")
    system = sent(fake_ollama)[0]
    assert sent(fake_ollama) == [system, ("user", "q1"), ("assistant", "r1"), ("user", "q2")]


def test_regenerate_adds_a_sibling_reply_and_makes_it_current(client, admin, two_turns, replies):
    _, second = two_turns
    replies()
    again = regenerate(client, admin, chat_id="t")
    assert again["response"] == "r3" and again["chat_id"] == "t"
    assert again["user_message_id"] == second["user_message_id"]
    assert contents(client, admin, "t") == ["q1", "r1", "q2", "r3"]
    shown = by_content(client, admin, "t")
    assert shown["r3"]["id"] == again["message_id"]
    assert shown["r3"]["parent_id"] == second["user_message_id"]
    assert shown["r3"]["sibling_ids"] == [second["message_id"], again["message_id"]]


def test_regenerate_an_earlier_reply_answers_its_own_question(
    client, admin, fake_ollama, two_turns, replies
):
    first, _ = two_turns
    replies()
    regenerate(client, admin, chat_id="t", message_id=first["message_id"])
    assert sent(fake_ollama)[1:] == [("user", "q1")]
    assert contents(client, admin, "t") == ["q1", "r3"]


def test_regenerate_forwards_model_and_temperature(client, admin, fake_ollama, two_turns):
    answer = regenerate(client, admin, chat_id="t", model="qwen2.5:7b", temperature=1.5)
    request = fake_ollama.requests[-1].json
    assert request["model"] == "qwen2.5:7b" and request["options"]["temperature"] == 1.5
    assert answer["model"] == "qwen2.5:7b"
    assert history(client, admin, "t")["messages"][-1]["model"] == "qwen2.5:7b"


def test_regenerating_a_user_message_is_409_and_stores_nothing(
    app, client, admin, fake_ollama, two_turns
):
    _, second = two_turns
    before, calls = snapshot(app), len(fake_ollama.requests)
    body = {"chat_id": "t", "message_id": second["user_message_id"]}
    response = client.post("/chat/regenerate", json=body, headers=admin.headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert snapshot(app) == before and len(fake_ollama.requests) == calls


def test_a_failed_regenerate_changes_nothing(app, client, admin, fake_ollama, two_turns):
    before, shown = snapshot(app), history(client, admin, "t")
    fake_ollama.fail_status = 500
    response = client.post("/chat/regenerate", json={"chat_id": "t"}, headers=admin.headers)
    assert response.status_code == 502
    assert snapshot(app) == before
    assert history(client, admin, "t") == shown


def test_a_failed_edit_changes_nothing(app, client, admin, fake_ollama, two_turns):
    first, _ = two_turns
    before, shown = snapshot(app), history(client, admin, "t")
    fake_ollama.fail_status = 500
    body = {"message": "edited", "chat_id": "t", "parent_id": first["message_id"]}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 502
    assert snapshot(app) == before
    assert history(client, admin, "t") == shown


def test_regenerate_of_an_unknown_chat_is_404(client, admin, fake_ollama):
    response = client.post("/chat/regenerate", json={"chat_id": "nope"}, headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "chat_not_found"
    assert fake_ollama.requests == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"chat_id": "t", "message_id": ""},
        {"chat_id": "t", "message_id": "1" * 65},
        {"chat_id": "t", "message_id": 1},
        {"chat_id": "t", "temperature": 3},
    ],
)
def test_regenerate_with_a_bad_body_is_422(client, admin, two_turns, body):
    response = client.post("/chat/regenerate", json=body, headers=admin.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("message_id", ["", "1" * 65, 1, "1\x00"])
def test_an_id_that_is_no_string_of_1_to_64_characters_is_422_and_stores_nothing(
    app, client, admin, fake_ollama, two_turns, message_id
):
    before, calls = snapshot(app), len(fake_ollama.requests)
    edit = {"message": "hi", "chat_id": "t", "parent_id": message_id}
    answers = [
        client.post("/chat", json=edit, headers=admin.headers),
        switch(client, admin, "t", message_id),
    ]
    assert [a.status_code for a in answers] == [422, 422]
    assert snapshot(app) == before and len(fake_ollama.requests) == calls


# --- switch -------------------------------------------------------------------------------


def test_switching_to_an_inner_message_continues_to_its_newest_leaf(
    client, admin, two_turns, replies
):
    first, second = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    replies()
    send(client, admin, "q3", chat_id="t")
    # Back on the first branch: q2 has r2, then a regenerated r5 (its newest leaf).
    response = switch(client, admin, "t", second["user_message_id"])
    assert response.status_code == 200
    replies()
    regenerate(client, admin, chat_id="t")
    switch(client, admin, "t", first["message_id"])  # q1's reply: below it, r5 is newest
    assert contents(client, admin, "t") == ["q1", "r1", "q2", "r5"]


def test_switch_answers_the_chat_as_get_does(client, admin, two_turns, replies):
    first, second = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    response = switch(client, admin, "t", second["message_id"])
    assert response.status_code == 200
    assert response.get_json() == client.get("/chat/history/t", headers=admin.headers).get_json()
    assert contents(client, admin, "t") == ["q1", "r1", "q2", "r2"]


def test_switching_keeps_the_chats_place_in_the_list(client, admin, two_turns):
    first, _ = two_turns
    listed = client.get("/chat/history", headers=admin.headers).get_json()["chats"]["t"]
    switch(client, admin, "t", first["message_id"])
    after = client.get("/chat/history", headers=admin.headers).get_json()["chats"]["t"]
    assert after["updated_at"] == listed["updated_at"]


def test_the_list_counts_the_messages_of_the_current_branch(client, admin, two_turns, replies):
    first, second = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    replies()
    regenerate(client, admin, chat_id="t", message_id=first["message_id"])

    def listed() -> int:
        chats = client.get("/chat/history", headers=admin.headers).get_json()["chats"]
        return chats["t"]["message_count"]

    assert listed() == len(contents(client, admin, "t")) == 2  # q1, and r4 that answers it
    switch(client, admin, "t", second["message_id"])
    assert listed() == len(contents(client, admin, "t")) == 4


# --- delete a branch ----------------------------------------------------------------------


def test_deleting_the_branch_holding_the_current_leaf_moves_to_the_newest_remaining_leaf(
    client, admin, two_turns, replies
):
    first, second = two_turns
    replies()
    edited = send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    replies()
    send(client, admin, "q2 third", chat_id="t", parent_id=first["message_id"])
    switch(client, admin, "t", edited["message_id"])  # the middle branch is current
    response = delete(client, admin, "t", edited["user_message_id"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    shown = [m["content"] for m in body["history"]["messages"][1:]]
    assert shown == ["q1", "r1", "q2 third", "r4"]  # the newest leaf left
    assert contents(client, admin, "t") == shown
    siblings = by_content(client, admin, "t")["q2 third"]["sibling_ids"]
    assert edited["user_message_id"] not in siblings and second["user_message_id"] in siblings


def test_deleting_a_branch_removes_its_whole_subtree(client, admin, two_turns):
    first, _ = two_turns
    assert delete(client, admin, "t", first["user_message_id"]).status_code == 200
    exported = client.get("/chat/history/t/export?format=json", headers=admin.headers).get_json()
    assert [m["role"] for m in exported["messages"]] == ["system"]
    assert exported["current_message_id"] == exported["messages"][0]["id"]
    assert contents(client, admin, "t") == []


def test_deleting_another_branch_keeps_the_current_one(client, admin, two_turns, replies):
    first, second = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    assert delete(client, admin, "t", second["user_message_id"]).status_code == 200
    assert contents(client, admin, "t") == ["q1", "r1", "q2 edited", "r3"]
    assert len(by_content(client, admin, "t")["q2 edited"]["sibling_ids"]) == 1


def test_deleting_the_root_is_409_and_changes_nothing(app, client, admin, two_turns):
    before = snapshot(app)
    root = history(client, admin, "t")["messages"][0]
    response = delete(client, admin, "t", root["id"])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert snapshot(app) == before


# --- ids that aren't the chat's -----------------------------------------------------------


@pytest.fixture
def foreign_ids(client, admin, make_user, two_turns) -> dict[str, str]:
    """Ids that chat "t" of admin doesn't have: another chat's, another user's, made-up ones."""
    other = send(client, admin, "elsewhere", chat_id="other")
    bob = make_user("bob")
    bobs = send(client, bob, "bob's", chat_id="t")
    return {
        "another chat's": other["message_id"],
        "another user's": bobs["message_id"],
        "unknown": str(int(other["message_id"]) + 10_000),
        "not a number": "abc",
        "too large": "9" * 30,
    }


ID_KINDS = ["another chat's", "another user's", "unknown", "not a number", "too large"]


@pytest.mark.parametrize("kind", ID_KINDS)
def test_a_parent_id_not_in_the_chat_is_404_and_stores_nothing(
    app, client, admin, fake_ollama, foreign_ids, kind
):
    before, calls = snapshot(app), len(fake_ollama.requests)
    body = {"message": "hi", "chat_id": "t", "parent_id": foreign_ids[kind]}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert snapshot(app) == before and len(fake_ollama.requests) == calls


@pytest.mark.parametrize("kind", ID_KINDS)
def test_a_message_id_not_in_the_chat_is_404_everywhere(
    app, client, admin, fake_ollama, foreign_ids, kind
):
    before, calls = snapshot(app), len(fake_ollama.requests)
    message_id = foreign_ids[kind]
    body = {"chat_id": "t", "message_id": message_id}
    answers = [
        client.post("/chat/regenerate", json=body, headers=admin.headers),
        switch(client, admin, "t", message_id),
        delete(client, admin, "t", message_id),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.get_json()["error"]["code"] for a in answers} == {"not_found"}
    assert snapshot(app) == before and len(fake_ollama.requests) == calls


def test_a_parent_id_on_a_new_chat_is_404_and_creates_nothing(app, client, admin, two_turns):
    first, _ = two_turns
    before = snapshot(app)
    body = {"message": "hi", "chat_id": "fresh", "parent_id": first["message_id"]}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 404
    assert snapshot(app) == before


def test_a_parent_id_without_a_chat_id_is_422_and_stores_nothing(
    app, client, admin, fake_ollama, two_turns
):
    first, _ = two_turns
    before = snapshot(app)
    body = {"message": "hi", "parent_id": first["message_id"]}
    response = client.post("/chat", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "parent_id"
    assert snapshot(app) == before


def test_another_users_chat_answers_every_tree_route_as_a_missing_one(
    client, admin, make_user, two_turns
):
    first, _ = two_turns
    bob = make_user("bob")
    message_id = first["message_id"]
    for chat_id in ("t", "missing"):  # admin's chat, and one nobody has
        answers = [
            client.post(
                "/chat/regenerate",
                json={"chat_id": chat_id, "message_id": message_id},
                headers=bob.headers,
            ),
            switch(client, bob, chat_id, message_id),
            delete(client, bob, chat_id, message_id),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404]
        assert [a.get_json()["error"]["code"] for a in answers] == ["chat_not_found"] * 3
    assert contents(client, admin, "t") == ["q1", "r1", "q2", "r2"]


# --- export -------------------------------------------------------------------------------


def test_markdown_exports_the_current_branch_and_json_the_whole_tree(
    client, admin, two_turns, replies
):
    first, _ = two_turns
    replies()
    send(client, admin, "q2 edited", chat_id="t", parent_id=first["message_id"])
    markdown = client.get("/chat/history/t/export", headers=admin.headers).get_data(as_text=True)
    assert "\nq2 edited\n" in markdown and "\nq2\n" not in markdown
    exported = client.get("/chat/history/t/export?format=json", headers=admin.headers).get_json()
    stored = [(m["content"], m["parent_id"]) for m in exported["messages"][1:]]
    ids = {m["content"]: m["id"] for m in exported["messages"]}
    assert stored == [
        ("q1", exported["messages"][0]["id"]),
        ("r1", ids["q1"]),
        ("q2", ids["r1"]),
        ("r2", ids["q2"]),
        ("q2 edited", ids["r1"]),
        ("r3", ids["q2 edited"]),
    ]
    assert exported["current_message_id"] == ids["r3"]
