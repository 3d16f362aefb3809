"""Chat history: list and search, read, rename, export and delete."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from chatapp.extensions import db
from chatapp.models import Message
from tests.api.chatkit import history, send, snapshot


def listing(client, user, query: str = "") -> dict:
    response = client.get(f"/chat/history{query}", headers=user.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_list_is_newest_first_with_counts(client, admin):
    for chat_id in ("one", "two", "three"):
        send(client, admin, f"about {chat_id}", chat_id=chat_id)
    send(client, admin, "more about one", chat_id="one")
    body = listing(client, admin)
    assert body["success"] is True and body["total"] == 3
    assert list(body["chats"]) == ["one", "three", "two"]
    one = body["chats"]["one"]
    assert one["id"] == "one" and one["title"] == "about one"
    assert one["message_count"] == 4  # user and assistant messages; the system one is not counted
    assert one["model"] == "llama3.1:8b-instruct-q8_0"
    assert one["created_at"] < one["updated_at"]


def test_list_pages_with_limit_and_offset(client, admin):
    for i in range(5):
        send(client, admin, f"chat {i}", chat_id=f"c{i}")
    page = listing(client, admin, "?limit=2&offset=1")
    assert list(page["chats"]) == ["c3", "c2"] and page["total"] == 5
    assert listing(client, admin, "?offset=10")["chats"] == {}


def test_empty_list(client, admin):
    assert listing(client, admin) == {"success": True, "chats": {}, "total": 0}


def test_search_matches_titles_and_message_text_ignoring_case(client, admin, fake_ollama):
    send(client, admin, "Sourdough starter", chat_id="bread")
    send(client, admin, "unrelated", chat_id="other")
    send(client, admin, "Tell me about GIRAFFES", chat_id="animals")
    fake_ollama.tokens = ["Penguins", " live", " south"]
    send(client, admin, "and birds?", chat_id="animals")
    assert list(listing(client, admin, "?q=sourDOUGH")["chats"]) == ["bread"]
    assert list(listing(client, admin, "?q=giraffe")["chats"]) == ["animals"]
    found = listing(client, admin, "?q=penguins")
    assert list(found["chats"]) == ["animals"] and found["total"] == 1


def test_search_ignores_the_system_prompt(client, admin):
    send(client, admin, "hello", chat_id="c1")
    assert listing(client, admin, "?q=helpful, honest assistant")["total"] == 0


@pytest.mark.parametrize(("query", "expected"), [("100%", ["pct"]), ("a_b", ["under"])])
def test_search_treats_like_wildcards_literally(client, admin, query, expected):
    send(client, admin, "growth of 100% this year", chat_id="pct")
    send(client, admin, "name is a_b", chat_id="under")
    send(client, admin, "100 apples and axb", chat_id="plain")
    assert list(listing(client, admin, f"?q={query.replace('%', '%25')}")["chats"]) == expected


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=501", "?limit=abc", "?offset=-1", "?q=" + "x" * 201, "?q=%00"]
)
def test_bad_list_query_is_422(client, admin, query):
    response = client.get(f"/chat/history{query}", headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_limit_500_is_allowed(client, admin):
    assert listing(client, admin, "?limit=500")["total"] == 0


def test_read_a_chat(client, admin):
    send(client, admin, "Hi!", chat_id="c1")
    response = client.get("/chat/history/c1", headers=admin.headers)
    body = response.get_json()
    assert body["success"] is True and body["chat_id"] == "c1"
    chat = body["history"]
    assert chat["id"] == chat["custom_id"] == "c1"
    assert chat["title"] == "Hi!"
    assert [m["role"] for m in chat["messages"]] == ["system", "user", "assistant"]
    assert all(m["timestamp"].endswith("Z") for m in chat["messages"])


def test_read_a_missing_chat_is_404(client, admin):
    response = client.get("/chat/history/nope", headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "chat_not_found",
        "message": "Chat 'nope' not found",
    }


def test_rename_a_chat(client, admin):
    send(client, admin, "Hi!", chat_id="c1")
    response = client.patch(
        "/chat/history/c1", json={"title": "  Renamed  "}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == "Renamed"
    assert history(client, admin, "c1")["title"] == "Renamed"
    assert listing(client, admin)["chats"]["c1"]["title"] == "Renamed"


@pytest.mark.parametrize(
    "body", [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": 5}, {"x": 1}]
)
def test_bad_rename_is_422_and_changes_nothing(app, client, admin, body):
    send(client, admin, "Hi!", chat_id="c1")
    before = snapshot(app)
    response = client.patch("/chat/history/c1", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert snapshot(app) == before


def test_rename_a_missing_chat_is_404(client, admin):
    response = client.patch("/chat/history/nope", json={"title": "x"}, headers=admin.headers)
    assert response.status_code == 404


def test_export_markdown_is_an_attachment(client, admin):
    send(client, admin, "How do magnets work?", chat_id="c1")
    response = client.get("/chat/history/c1/export", headers=admin.headers)
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == 'attachment; filename="c1.md"'
    text = response.get_data(as_text=True)
    assert text.startswith("# How do magnets work?\n")
    assert "## User · " in text and "\nHow do magnets work?\n" in text
    assert "## Assistant · " in text and "\nHello world!\n" in text


def test_export_json_of_a_linear_chat_is_its_history_as_a_tree_file(client, admin):
    send(client, admin, "Hi!", chat_id="c1")
    response = client.get("/chat/history/c1/export?format=json", headers=admin.headers)
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="c1.json"'
    shown = history(client, admin, "c1")
    for message in shown["messages"]:
        del message["sibling_ids"]  # the export is the whole tree: parent ids say it all
    shown["current_message_id"] = shown["messages"][-1]["id"]
    assert json.loads(response.get_data(as_text=True)) == shown


@pytest.mark.parametrize("file_format", ["pdf", "", "MARKDOWN"])
def test_export_in_an_unknown_format_is_422(client, admin, file_format):
    send(client, admin, "Hi!", chat_id="c1")
    response = client.get(f"/chat/history/c1/export?format={file_format}", headers=admin.headers)
    assert response.status_code == 422


def test_delete_a_chat_removes_its_messages(app, client, admin):
    send(client, admin, "Hi!", chat_id="c1")
    send(client, admin, "Keep me", chat_id="c2")
    response = client.delete("/chat/delete/c1", headers=admin.headers)
    assert response.get_json() == {"success": True, "message": "Chat 'c1' deleted"}
    assert client.get("/chat/history/c1", headers=admin.headers).status_code == 404
    assert client.delete("/chat/delete/c1", headers=admin.headers).status_code == 404
    assert list(listing(client, admin)["chats"]) == ["c2"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 3  # c2's messages only


@pytest.mark.parametrize("chat_id", ["a.b", "x" * 65, "ünï", "a%20b", "a'--", "%00"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/chat/history/{}", None),
        ("PATCH", "/chat/history/{}", {"title": "x"}),
        ("GET", "/chat/history/{}/export", None),
        ("DELETE", "/chat/delete/{}", None),
    ],
)
def test_invalid_chat_id_in_path_is_422(app, client, admin, chat_id, method, path, body):
    send(client, admin, "Hi!", chat_id="c1")
    before = snapshot(app)
    response = client.open(path.format(chat_id), method=method, json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "chat_id"
    assert snapshot(app) == before


@pytest.mark.parametrize("path", ["/chat/history/..%2F..%2Fetc", "/chat/delete/a%2Fb"])
def test_path_traversal_gets_a_json_4xx(client, admin, path):
    response = client.open(path, method="GET" if "history" in path else "DELETE")
    assert 400 <= response.status_code < 500
    assert response.get_json()["success"] is False
