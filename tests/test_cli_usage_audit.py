"""`chatapp usage`, `chatapp audit` and the CLI's user changes, which are audited as `cli`."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from chatapp.cli import main
from chatapp.extensions import db
from chatapp.models import ApiKey, AuditEntry
from tests.api import chatkit
from tests.api.usagekit import add_usage, at, freeze
from tests.conftest import bearer


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args))


def last_line(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_cli_actions_are_audited_as_cli_and_never_hold_a_key(app, cli, client, admin):
    key = last_line(cli("users", "create", "bob", "--quota-day", "100"))
    second = last_line(cli("keys", "create", "bob", "--name", "ci"))
    assert cli("keys", "revoke", second[:12]).exit_code == 0
    assert (
        cli("users", "update", "bob", "--quota-day", "default", "--rate-limit", "9").exit_code == 0
    )
    assert cli("users", "update", "bob", "--inactive").exit_code == 0
    assert cli("users", "delete", "bob").exit_code == 0
    listed = client.get("/audit?actor=cli", headers=admin.headers).get_json()["entries"]
    assert [e["action"] for e in reversed(listed)] == [
        "user.created",
        "key.created",
        "key.revoked",
        "user.limits_changed",
        "user.updated",
        "user.deleted",
    ]
    limits = next(e for e in listed if e["action"] == "user.limits_changed")
    assert limits["details"]["token_quota_per_day"] == {"from": 100, "to": None}
    with app.app_context():
        rows = [str((r.target, r.details)) for r in db.session.scalars(select(AuditEntry))]
        hashes = list(db.session.scalars(select(ApiKey.key_hash)))
    for secret in (key, second, *hashes):
        assert not any(secret in row for row in rows)


def test_users_update_sets_quotas_that_apply(cli, client, make_user):
    bob = make_user("bob")
    assert cli("users", "update", "bob", "--quota-day", "1").exit_code == 0
    chatkit.send(client, bob, "hi")
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429
    assert "1 tokens/day" in cli("users", "list").output


@pytest.mark.parametrize(
    "args",
    [
        ["ghost", "--admin"],
        ["bob", "--quota-day", "0"],
        ["bob", "--rate-limit", "x"],
        ["bob", "--quota-month", "\u00b2"],  # a digit to str.isdigit, not to int()
        ["bob"],
    ],
)
def test_users_update_refuses_bad_input_cleanly(cli, make_user, args):
    make_user("bob")
    result = cli("users", "update", *args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # an error message, not a crash


def test_usage_prints_totals_per_user_and_csv(app, cli, client, admin, make_user, monkeypatch):
    freeze(monkeypatch, at("2026-07-20T12:00:00"))
    make_user("bob")
    add_usage(app, "bob", date(2026, 7, 19), prompt_tokens=11, completion_tokens=4)
    add_usage(app, "bob", date(2026, 7, 1), model="x", prompt_tokens=1)
    result = cli("usage", "--from", "2026-07-10", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    bob = next(row for row in rows if row["username"] == "bob")
    assert (bob["requests"], bob["prompt_tokens"], bob["completion_tokens"]) == ("1", "11", "4")
    days = cli("usage", "--user", "bob", "--from", "2026-07-01").output.splitlines()
    assert days[0].split("\t")[:2] == ["date", "model"]
    assert [line.split("\t")[:2] for line in days[1:]] == [["2026-07-01", "x"], ["2026-07-19", "m"]]


@pytest.mark.parametrize(
    "args",
    [["--from", "2026-02-30"], ["--from", "2026-03-02", "--to", "2026-03-01"], ["--user", "ghost"]],
)
def test_usage_refuses_bad_input_cleanly(cli, args):
    result = cli("usage", *args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_usage_ending_near_the_first_possible_day_prints_it(cli):
    result = cli("usage", "--to", "0001-01-05", "--csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("username,")


def test_audit_filters_like_the_api(cli, client, admin):
    cli("users", "create", "bob")
    client.post("/users", json={"username": "carol"}, headers=admin.headers)
    lines = cli("audit", "--action", "user.created", "--actor", "cli").output.splitlines()
    assert lines[0].split("\t") == ["time", "actor", "action", "target", "details", "request_id"]
    assert [line.split("\t")[3] for line in lines[1:]] == ["user:bob"]
    assert cli("audit", "--limit", "0").exit_code != 0


def test_a_cli_created_user_key_works(cli, client):
    key = last_line(cli("users", "create", "dan", "--quota-month", "5"))
    me = client.get("/me", headers=bearer(key)).get_json()
    assert me["token_quotas"]["month"]["limit"] == 5
