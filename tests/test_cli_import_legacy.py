"""`chatapp import-legacy` and the start-up import that `chatapp serve` runs first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chatapp.cli import main
from chatapp.extensions import db
from chatapp.models import Chat
from chatapp.services.users import get_user
from chatapp.startup import prepare
from tests.legacy_tree import ACTIVE_TEXT, write_legacy_tree


@pytest.fixture
def tree(tmp_path):
    return write_legacy_tree(tmp_path / "legacy")


@pytest.fixture
def app_overrides(tree) -> dict:
    """The legacy paths point at the tree; the start-up import stays off unless a test says."""
    return {
        "CHAT_HISTORY_DIR": str(tree.chats_dir),
        "SYSTEM_PROMPTS_DIR": str(tree.prompts_dir),
        "SYSTEM_PROMPT_FILE": str(tree.prompt_file),
    }


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args))


def chat_ids(app, username: str = "admin") -> list[str]:
    with app.app_context():
        user = get_user(username)
        return sorted(db.session.scalars(select(Chat.chat_id).where(Chat.user_id == user.id)))


def test_import_legacy_reads_the_configured_paths_and_prints_a_summary(app, cli):
    result = cli("import-legacy")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Legacy import into 'admin': 8 imported, 0 skipped, 4 failed."
    assert "chat 'chat-one'" in lines[1] and "prompt 'basic'" in lines[1]
    assert sum(line.startswith("Failed: ") for line in lines) == 4
    assert any("broken.json: not readable JSON" in line for line in lines)
    assert chat_ids(app) == ["chat-one", "orphan", "trip_2023"]


def test_running_import_legacy_again_imports_nothing(app, cli):
    cli("import-legacy")
    result = cli("import-legacy")
    assert result.output.splitlines()[0] == (
        "Legacy import into 'admin': 0 imported, 8 skipped, 4 failed."
    )
    assert chat_ids(app) == ["chat-one", "orphan", "trip_2023"]


def test_import_legacy_takes_paths_and_a_user(app, cli, make_user, tree, tmp_path):
    make_user("carol")
    chats_only = ("--prompts-dir", str(tmp_path / "none"), "--prompt-file", str(tmp_path / "x"))
    result = cli(
        "import-legacy", "--user", "carol", "--chats-dir", str(tree.chats_dir), *chats_only
    )
    assert result.exit_code == 0, result.output
    assert f"Not found, nothing imported from it: {tmp_path / 'none'}" in result.output
    assert chat_ids(app, "carol") == ["chat-one", "orphan", "trip_2023"]
    assert chat_ids(app, "admin") == []


def test_import_legacy_for_an_unknown_user_fails_clearly(app, cli):
    result = cli("import-legacy", "--user", "ghost")
    assert result.exit_code != 0
    assert "User 'ghost' not found" in result.output
    assert chat_ids(app) == []


def test_import_legacy_with_no_legacy_data_says_so(app, cli, tmp_path):
    missing = [str(tmp_path / name) for name in ("a", "b", "c.txt")]
    result = cli(
        "import-legacy",
        "--chats-dir",
        missing[0],
        "--prompts-dir",
        missing[1],
        "--prompt-file",
        missing[2],
    )
    assert result.exit_code != 0
    assert "Nothing to import" in result.output


def test_start_up_imports_when_enabled(app):
    app.config["LEGACY_IMPORT_ON_START"] = True
    prepare(app)
    assert chat_ids(app) == ["chat-one", "orphan", "trip_2023"]
    with app.app_context():
        assert get_user("admin").active_prompt.content == ACTIVE_TEXT


def test_a_restart_imports_nothing_twice(app):
    app.config["LEGACY_IMPORT_ON_START"] = True
    prepare(app)
    prepare(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Chat)) == 3


def test_start_up_leaves_the_files_alone_when_disabled(app):
    prepare(app)
    assert chat_ids(app) == []


def test_start_up_resolves_relative_paths_against_the_working_directory(app, tree, monkeypatch):
    monkeypatch.chdir(tree.chats_dir.parent)
    app.config.update(
        LEGACY_IMPORT_ON_START=True,
        CHAT_HISTORY_DIR="chats",
        SYSTEM_PROMPTS_DIR="system_prompts",
        SYSTEM_PROMPT_FILE="system_prompt.txt",
    )
    prepare(app)
    assert chat_ids(app) == ["chat-one", "orphan", "trip_2023"]


def test_start_up_without_legacy_files_does_nothing(app, tmp_path):
    app.config.update(
        LEGACY_IMPORT_ON_START=True,
        CHAT_HISTORY_DIR=str(tmp_path / "none"),
        SYSTEM_PROMPTS_DIR=str(tmp_path / "none"),
        SYSTEM_PROMPT_FILE=str(tmp_path / "none.txt"),
    )
    prepare(app)
    assert chat_ids(app) == []
