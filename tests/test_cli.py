"""The operator CLI: users and keys, with the new key alone on the last line."""

from __future__ import annotations

import pytest

from chatapp.cli import main
from tests.conftest import bearer


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args))


def test_users_create_prints_a_working_key_on_the_last_line(cli, client):
    result = cli("users", "create", "bob", "--rate-limit", "50")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("ck_")
    assert client.get("/me", headers=bearer(key)).get_json()["username"] == "bob"


def test_users_create_admin_flag_makes_an_admin(cli, client):
    key = cli("users", "create", "root2", "--admin").output.strip().splitlines()[-1]
    assert client.get("/me", headers=bearer(key)).get_json()["is_admin"] is True


def test_users_create_rejects_a_duplicate_and_a_bad_name(cli):
    cli("users", "create", "bob")
    assert cli("users", "create", "bob").exit_code != 0
    assert cli("users", "create", "bad name").exit_code != 0


def test_users_list_shows_every_user(cli):
    cli("users", "create", "bob", "--rate-limit", "7")
    output = cli("users", "list").output
    assert "admin" in output and "bob" in output and "7/hour" in output


def test_keys_create_and_revoke(cli, client):
    cli("users", "create", "bob")
    key = cli("keys", "create", "bob", "--name", "ci").output.strip().splitlines()[-1]
    assert client.get("/me", headers=bearer(key)).status_code == 200
    result = cli("keys", "revoke", key[:12])
    assert result.exit_code == 0, result.output
    assert client.get("/me", headers=bearer(key)).status_code == 401


def test_keys_for_an_unknown_user_or_prefix_fail_cleanly(cli):
    assert "not found" in cli("keys", "create", "ghost").output
    assert "not found" in cli("keys", "revoke", "ck_nothing").output
