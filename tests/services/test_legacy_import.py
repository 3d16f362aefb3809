"""The legacy import: the old app's files into one user's account, once, skipping what's broken."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from chatapp.errors import PromptNotFound
from chatapp.extensions import db
from chatapp.models import Chat, Message, SystemPrompt
from chatapp.services import prompts
from chatapp.services.legacy_import import LegacyPaths, import_legacy
from chatapp.services.users import get_user
from tests.legacy_tree import (
    ACTIVE_TEXT,
    HAIKU_CONTENT,
    OLD_CODE_CONTENT,
    ORPHAN,
    OUTSIDE_TEXT,
    write_json,
    write_legacy_tree,
)


class Collected(logging.Handler):
    """Keeps the messages of one logger (chatapp's loggers don't propagate to pytest's)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged():
    handler = Collected()
    logger = logging.getLogger("chatapp.services.legacy_import")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def tree(tmp_path) -> LegacyPaths:
    return write_legacy_tree(tmp_path / "legacy")


def run_import(paths: LegacyPaths, username: str = "admin"):
    return import_legacy(get_user(username), paths)


def chat(chat_id: str) -> Chat:
    return db.session.scalars(select(Chat).where(Chat.chat_id == chat_id)).one()


def messages(chat_id: str) -> list[Message]:
    query = select(Message).where(Message.chat_pk == chat(chat_id).id).order_by(Message.id)
    return list(db.session.scalars(query))


def counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Chat, Message, SystemPrompt)
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_fixture_tree_imports_every_good_chat_and_prompt(ctx, tree):
    report = run_import(tree)
    assert report.imported == [
        "prompt 'basic'",
        "prompt 'code-assistant'",
        "prompt 'prompt-1a2b3c4d'",
        "prompt 'prompt-dup00001' (as 'Default 2')",
        "active prompt text",
        "chat 'chat-one'",
        "chat 'trip_2023'",
        "chat 'orphan'",
    ]
    assert sorted(db.session.scalars(select(Chat.chat_id))) == ["chat-one", "orphan", "trip_2023"]


def test_broken_partial_and_unknown_role_files_are_skipped_naming_the_file(
    ctx, tree, warnings_logged
):
    report = run_import(tree)
    failed = {outcome.item: outcome.reason for outcome in report.failed}
    chats_dir = tree.chats_dir
    assert set(failed) == {
        str(chats_dir / "weird-role.json"),
        str(chats_dir / "broken.json"),
        str(chats_dir / "ghost.json"),
        f"chat '../outside' in {chats_dir}",
    }
    assert "unknown role 'tool'" in failed[str(chats_dir / "weird-role.json")]
    assert "JSON" in failed[str(chats_dir / "broken.json")]
    assert "missing" in failed[str(chats_dir / "ghost.json")]
    for item in failed:
        assert any(item in message for message in warnings_logged)


def test_a_file_with_an_unknown_role_is_not_half_imported(ctx, tree):
    run_import(tree)
    assert db.session.scalars(select(Chat).where(Chat.chat_id == "weird-role")).first() is None
    assert counts()[1] == 7  # chat-one 3, trip_2023 3, orphan 1: nothing of weird-role


def test_an_id_that_climbs_out_of_the_folder_is_never_read(ctx, tree):
    run_import(tree)
    assert (
        db.session.scalars(select(Message).where(Message.content == OUTSIDE_TEXT)).first() is None
    )


def test_chat_timestamps_are_kept_and_naive_ones_are_read_as_utc(ctx, tree):
    run_import(tree)
    one = chat("chat-one")
    assert (one.created_at, one.updated_at) == (
        utc(2024, 3, 1, 9, 15, 0, 123456),
        utc(2024, 3, 1, 9, 20),
    )
    trip = chat("trip_2023")  # written with a +02:00 offset
    assert (trip.created_at, trip.updated_at) == (utc(2023, 7, 10, 16), utc(2023, 7, 10, 16, 2))


def test_message_order_roles_and_times_are_kept(ctx, tree):
    run_import(tree)
    rows = [(m.role, m.content, m.created_at) for m in messages("chat-one")]
    assert rows == [
        # The old app's system message had no timestamp: it takes the chat's creation time.
        ("system", "You are a helpful AI assistant.", utc(2024, 3, 1, 9, 15, 0, 123456)),
        ("user", "Hello there, old friend", utc(2024, 3, 1, 9, 19)),
        ("assistant", "Hi! How can I help?", utc(2024, 3, 1, 9, 20)),
    ]


def test_the_title_comes_from_the_index_else_the_first_user_message(ctx, tree):
    run_import(tree)
    assert chat("trip_2023").title == "Summer trip"
    assert chat("chat-one").title == "Hello there, old friend"
    assert chat("orphan").title == ORPHAN["messages"][0]["content"]


def test_legacy_prompt_ids_become_slugs_with_their_timestamps(ctx, tree):
    run_import(tree)
    haiku = prompts.get_prompt(get_user("admin"), "prompt-1a2b3c4d")
    assert (haiku.name, haiku.content, haiku.description) == ("Haiku Poet", HAIKU_CONTENT, "")
    assert (haiku.created_at, haiku.updated_at) == (utc(2024, 1, 15, 8, 30), utc(2024, 2, 1, 12))
    assert prompts.get_prompt(get_user("admin"), "Basic Assistant").slug == "basic"


def test_a_legacy_prompt_replaces_an_untouched_builtin_of_the_same_id(ctx, tree):
    run_import(tree)
    assert prompts.get_prompt(get_user("admin"), "code-assistant").content == OLD_CODE_CONTENT


def test_a_legacy_prompt_never_replaces_an_edited_one(ctx, tree):
    admin = get_user("admin")
    prompts.update_prompt(admin, "code-assistant", {"content": "My own edit."})
    report = run_import(tree)
    assert prompts.get_prompt(admin, "code-assistant").content == "My own edit."
    assert ("prompt 'code-assistant'", "a prompt with this id exists") in [
        (o.item, o.reason) for o in report.skipped
    ]


def test_a_legacy_prompt_whose_name_is_taken_gets_a_free_one(ctx, tree):
    run_import(tree)
    assert prompts.get_prompt(get_user("admin"), "prompt-dup00001").name == "Default 2"


def test_system_prompt_txt_becomes_the_active_prompts_content(ctx, tree):
    run_import(tree)
    admin = get_user("admin")
    assert admin.active_prompt.slug == "default"
    assert admin.active_prompt.content == ACTIVE_TEXT
    assert prompts.system_prompt_for_new_chat(admin) == ACTIVE_TEXT


def test_a_second_run_imports_nothing_twice(ctx, tree):
    run_import(tree)
    before = counts()
    report = run_import(tree)
    assert report.imported == []
    assert counts() == before
    assert len(report.skipped) == 8


def test_a_chat_deleted_after_the_import_never_comes_back(ctx, tree):
    run_import(tree)
    db.session.delete(chat("orphan"))
    db.session.commit()
    report = run_import(tree)
    assert ("chat 'orphan'", "imported by an earlier run") in [
        (o.item, o.reason) for o in report.skipped
    ]
    assert db.session.scalars(select(Chat).where(Chat.chat_id == "orphan")).first() is None


def test_a_prompt_deleted_after_the_import_never_comes_back(ctx, tree):
    run_import(tree)
    prompts.delete_prompt(get_user("admin"), "prompt-1a2b3c4d")
    run_import(tree)
    with pytest.raises(PromptNotFound):
        prompts.get_prompt(get_user("admin"), "prompt-1a2b3c4d")


def test_system_prompt_txt_is_applied_only_once(ctx, tree):
    run_import(tree)
    prompts.set_active_content(get_user("admin"), prompts.DEFAULT_PROMPT_TEXT)  # reset by hand
    run_import(tree)
    assert get_user("admin").active_prompt.content == prompts.DEFAULT_PROMPT_TEXT


def test_another_users_import_is_independent(ctx, tree, make_user):
    run_import(tree)
    make_user("carol")
    assert len(run_import(tree, "carol").imported) == 8


def test_a_restart_never_overwrites_an_edited_active_prompt(ctx, tree):
    run_import(tree)
    prompts.set_active_content(get_user("admin"), "Edited after the import.")
    run_import(tree)
    assert get_user("admin").active_prompt.content == "Edited after the import."


def test_system_prompt_txt_never_lands_on_another_chosen_builtin(ctx, tree):
    prompts.activate_prompt(get_user("admin"), "research-assistant")
    run_import(tree)
    research = prompts.get_prompt(get_user("admin"), "research-assistant")
    assert research.content == prompts.builtin_prompt("research-assistant").content


def test_with_no_active_prompt_system_prompt_txt_is_left_unapplied(ctx, tree):
    prompts.delete_prompt(get_user("admin"), "default")
    report = run_import(tree)
    assert get_user("admin").active_prompt is None
    assert "active prompt text" in [o.item for o in report.skipped]


def test_the_data_can_go_to_another_user(ctx, tree, make_user):
    make_user("carol")
    run_import(tree, "carol")
    carol = get_user("carol")
    assert db.session.scalar(select(func.count()).where(Chat.user_id == carol.id)) == 3
    assert db.session.scalar(select(func.count()).where(Chat.user_id != carol.id)) == 0
    assert get_user("admin").active_prompt.content == prompts.DEFAULT_PROMPT_TEXT


def test_a_chat_id_the_user_already_has_is_left_alone(ctx, tree):
    admin_user = get_user("admin")
    db.session.add(Chat(user_id=admin_user.id, chat_id="chat-one", title="Made in chatapp"))
    db.session.commit()
    report = run_import(tree)
    assert chat("chat-one").title == "Made in chatapp"
    assert messages("chat-one") == []
    assert ("chat 'chat-one'", "a chat with this id exists") in [
        (o.item, o.reason) for o in report.skipped
    ]


TRIGGERS = {
    "sqlite": (
        [
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.content = 'BOOM' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ],
        ["DROP TRIGGER refuse_boom"],
    ),
    "postgresql": (
        [
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.content = 'BOOM' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON messages "
            "FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
        ],
        ["DROP TRIGGER refuse_boom ON messages", "DROP FUNCTION refuse_boom()"],
    ),
}


@pytest.fixture
def database_refuses_boom(ctx):
    """The database itself refuses any message 'BOOM', as a real failure mid-chat."""
    create, drop = TRIGGERS[db.engine.dialect.name]
    with db.engine.begin() as connection:
        for statement in create:
            connection.exec_driver_sql(statement)
    yield
    db.session.remove()  # the test's open transaction would block the DROP on PostgreSQL
    with db.engine.begin() as connection:
        for statement in drop:
            connection.exec_driver_sql(statement)


def test_a_chat_the_database_refuses_midway_leaves_nothing_behind(tree, database_refuses_boom):
    doomed = {
        "created_at": "2024-05-05T05:05:05",
        "messages": [
            {"role": "user", "content": "first", "timestamp": "2024-05-05T05:05:05"},
            {"role": "assistant", "content": "second", "timestamp": "2024-05-05T05:05:06"},
            {"role": "user", "content": "BOOM", "timestamp": "2024-05-05T05:05:07"},
        ],
    }
    write_json(tree.chats_dir / "doomed.json", doomed)
    report = run_import(tree)
    assert "chat 'doomed'" in [o.item for o in report.failed]
    assert db.session.scalars(select(Chat).where(Chat.chat_id == "doomed")).first() is None
    assert db.session.scalars(select(Message).where(Message.content == "first")).first() is None
    assert "chat 'orphan'" in report.imported  # the rest goes on


def test_a_corrupt_index_still_imports_the_files(ctx, tree):
    (tree.chats_dir / "index.json").write_text("{oops", "utf-8")
    report = run_import(tree)
    assert sorted(db.session.scalars(select(Chat.chat_id))) == ["chat-one", "orphan", "trip_2023"]
    assert chat("trip_2023").title == "Plan a trip"  # the index's title is lost with it
    assert str(tree.chats_dir / "index.json") in [o.item for o in report.failed]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"created_at": "2024-01-01T00:00:00"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": "hello"}, "messages"),
        ({"messages": [{"role": "user"}]}, "content"),
        ({"messages": [{"role": "user", "content": 5, "timestamp": "2024-01-01"}]}, "content"),
        ({"messages": [{"role": "user", "content": "a\u0000b", "timestamp": "2024-01-01"}]}, "NUL"),
        ({"messages": [["user", "hi"]]}, "not an object"),
        ({"created_at": "yesterday", "messages": [{"role": "user", "content": "x"}]}, "ISO"),
        ({"created_at": 1700000000, "messages": [{"role": "user", "content": "x"}]}, "string"),
        ({"messages": [{"role": "user", "content": "no time anywhere"}]}, "timestamp"),
        ({"messages": [{"role": "USER", "content": "x", "timestamp": "2024-01-01"}]}, "role"),
    ],
)
def test_partial_or_malformed_chat_files_are_skipped_with_the_reason(tmp_path, ctx, data, reason):
    chats_dir = tmp_path / "chats"
    chats_dir.mkdir()
    write_json(chats_dir / "bad.json", data)
    report = run_import(LegacyPaths(chats_dir, tmp_path / "none", tmp_path / "none.txt"))
    assert [o.item for o in report.failed] == [str(chats_dir / "bad.json")]
    assert reason in report.failed[0].reason
    assert counts()[0] == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"content": "x"}, "name"),
        ({"name": "No content"}, "content"),
        ({"name": "Blank", "content": "   "}, "blank"),
        ({"name": "Huge", "content": "x" * 20_001}, "content"),
        ({"name": "n" * 101, "content": "x"}, "name"),
        ({"name": "Long description", "content": "x", "description": "d" * 501}, "description"),
        ({"name": "Bad time", "content": "x", "created_at": "soon"}, "ISO"),
    ],
)
def test_invalid_legacy_prompts_are_skipped_with_the_reason(tmp_path, ctx, data, reason):
    prompts_dir = tmp_path / "system_prompts"
    prompts_dir.mkdir()
    write_json(prompts_dir / "bad.json", data)
    report = run_import(LegacyPaths(tmp_path / "none", prompts_dir, tmp_path / "none.txt"))
    assert [o.item for o in report.failed] == [str(prompts_dir / "bad.json")]
    assert reason in report.failed[0].reason
    assert len(prompts.list_prompts(get_user("admin"))) == 3


def test_a_prompt_file_without_a_description_takes_the_index_one(tmp_path, ctx):
    prompts_dir = tmp_path / "system_prompts"
    prompts_dir.mkdir()
    write_json(prompts_dir / "index.json", {"prompts": {"p1": {"description": "from index"}}})
    write_json(prompts_dir / "p1.json", {"name": "P one", "content": "Be one."})
    run_import(LegacyPaths(tmp_path / "none", prompts_dir, tmp_path / "none.txt"))
    assert prompts.get_prompt(get_user("admin"), "p1").description == "from index"


@pytest.mark.parametrize("text", ["", "   \n", "x" * 20_001, "a\u0000b"])
def test_an_unusable_system_prompt_txt_is_skipped(tmp_path, ctx, text):
    (tmp_path / "system_prompt.txt").write_text(text, "utf-8")
    report = run_import(LegacyPaths(tmp_path / "n", tmp_path / "n", tmp_path / "system_prompt.txt"))
    assert [o.item for o in report.failed] == [str(tmp_path / "system_prompt.txt")]
    assert get_user("admin").active_prompt.content == prompts.DEFAULT_PROMPT_TEXT


def test_the_summary_lists_imported_skipped_and_failed_with_reasons(ctx, tree):
    run_import(tree)
    lines = run_import(tree).summary()
    assert lines[0] == "Legacy import into 'admin': 0 imported, 8 skipped, 4 failed."
    assert lines[1] == (
        "Skipped, imported by an earlier run: prompt 'basic', prompt 'code-assistant', "
        "prompt 'prompt-1a2b3c4d', prompt 'prompt-dup00001', active prompt text, "
        "chat 'chat-one', chat 'trip_2023', chat 'orphan'"
    )
    assert any(line.startswith("Failed: ") and "weird-role.json" in line for line in lines)
