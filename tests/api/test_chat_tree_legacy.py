"""The legacy import builds each old chat as one branch, as the migration does."""

from __future__ import annotations

from chatapp.extensions import db
from chatapp.services.legacy_import import import_legacy
from chatapp.services.users import get_user
from tests.api.chatkit import history, send
from tests.legacy_tree import CHATS, write_legacy_tree


def test_an_imported_chat_is_one_branch_that_a_turn_continues(app, client, admin, tmp_path):
    with app.app_context():
        import_legacy(get_user("admin"), write_legacy_tree(tmp_path))
        db.session.remove()
    messages = history(client, admin, "chat-one")["messages"]
    legacy = CHATS["chat-one"]["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        (m["role"], m["content"]) for m in legacy
    ]
    assert [m["parent_id"] for m in messages] == [None, *[m["id"] for m in messages[:-1]]]
    assert all(m["sibling_ids"] == [m["id"]] for m in messages)
    answer = send(client, admin, "And now?", chat_id="chat-one")
    after = history(client, admin, "chat-one")["messages"]
    assert after[-2]["parent_id"] == messages[-1]["id"]
    assert after[-1]["id"] == answer["message_id"]
