"""How many SQL statements a request sends, on the app's engine and the limiter's together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, insert, select, update

from chatapp.db_types import utcnow
from chatapp.extensions import db
from chatapp.models import Chat, Message, SystemPrompt, User
from chatapp.ratelimit.storage import ENGINE_KEY
from chatapp.services.message_ids import new_ids
from tests.api.test_history_queries import add_chats
from tests.conftest import listening

# The request pipeline's share, which other changes may move (change the number here): the key
# joined with its user (last_used_at is written once a minute), and the request's hits (hourly,
# and LLM on a turn) in one statement. On PostgreSQL the statement that writes the hits finds
# the key too.
PIPELINE_STATEMENTS = {"sqlite": 2, "postgresql": 1}
# What the endpoints themselves send:
# A turn's own, on an existing chat: the context read (the chat and its branch up from the leaf,
# one recursive CTE), then the write. SQLite: the chat's update (current leaf, updated_at,
# model) and the messages' insert (one multi-row statement). PostgreSQL: both in one statement,
# a data-modifying CTE, which counts the call's usage too. The same for a continue, an edit and
# a regenerate.
TURN_OWN_STATEMENTS = {"sqlite": 3, "postgresql": 2}
# Issue 14: the call's usage upsert (a user without quotas reads nothing); on PostgreSQL the
# turn's write does it.
USAGE_STATEMENTS = {"sqlite": 1, "postgresql": 0}
# Issue 16's five statements, limits and usage included, hold where a statement is a round trip
# (PostgreSQL); SQLite's in-process write is two statements, so one more there.
TURN_BUDGET = {"sqlite": 6, "postgresql": 5}
READ_OWN_STATEMENTS = 2  # the chat; its current branch with each message's siblings


def pipeline_statements(app: Flask) -> int:
    """What authentication and the limits send."""
    with app.app_context():
        return PIPELINE_STATEMENTS[db.engine.dialect.name]


def turn_own_statements(app: Flask) -> int:
    """What a turn on an existing chat sends besides auth and limits: its read, write and usage."""
    with app.app_context():
        dialect = db.engine.dialect.name
        return TURN_OWN_STATEMENTS[dialect] + USAGE_STATEMENTS[dialect]


def turn_budget(app: Flask) -> int:
    with app.app_context():
        return TURN_BUDGET[db.engine.dialect.name]


@contextmanager
def all_statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine and the limiter's send while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        engines = {id(engine): engine for engine in (db.engine, app.extensions[ENGINE_KEY])}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", record)


def counted(app, client, user, method: str, path: str, **kwargs) -> list[str]:
    """The statements of one request, after another that writes the key's last_used_at."""
    assert client.get("/me", headers=user.headers).status_code == 200
    with all_statements(app) as statements:
        response = client.open(path, method=method, headers=user.headers, **kwargs)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return statements


def add_prompts(app, username: str, count: int) -> None:
    now = utcnow()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        rows = [
            {"user_id": user_id, "slug": f"p-{n}", "name": f"P {n}", "content": "x",
             "description": "", "created_at": now, "updated_at": now}
            for n in range(count)
        ]  # fmt: skip
        db.session.execute(insert(SystemPrompt), rows)
        db.session.commit()
        db.session.remove()


def turn(app, client, user, chat_id: str) -> list[str]:
    """A turn's statements, after a first turn has prepared the limiter's statement (on
    PostgreSQL it is PREPAREd once per connection)."""
    body = {"message": "hi", "chat_id": chat_id}
    assert client.post("/chat", json=body, headers=user.headers).status_code == 200
    return counted(app, client, user, "POST", "/chat", json=body)


def add_tree(app, username: str, chat_id: str, size: int) -> dict[str, int]:
    """A chat of `size` messages in branches: each user message has a first reply left as a
    side branch and a second that the next user message follows. Returns a few ids."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        now = utcnow()
        chat_pk = db.session.scalar(
            insert(Chat)
            .values(user_id=user_id, chat_id=chat_id, title="tree", created_at=now, updated_at=now)
            .returning(Chat.id)
        )
        rows, ids = _tree_rows(chat_pk, size)
        db.session.execute(insert(Message), rows)
        db.session.execute(
            update(Chat).where(Chat.id == chat_pk).values(current_message_id=ids["leaf"])
        )
        db.session.commit()
        db.session.remove()
    return ids


def _tree_rows(chat_pk: int, size: int) -> tuple[list[dict], dict[str, int]]:
    ids = new_ids(size)
    rows = [{"id": ids[0], "parent_id": None, "role": "system", "content": "root"}]
    parent = ids[0]
    for n in range(1, size):
        role = ("user", "assistant", "assistant")[(n - 1) % 3]
        rows.append({"id": ids[n], "parent_id": parent, "role": role, "content": f"m{n}"})
        # a user message and its second reply carry the branch on; the first reply is a side
        parent = parent if (n - 1) % 3 == 1 else ids[n]
    inner = next(row["id"] for row in rows if row["role"] == "user")
    leaf = next(row for row in reversed(rows) if row["role"] == "assistant")
    for row in rows:
        row["chat_pk"] = chat_pk
    return rows, {"inner": inner, "leaf": leaf["id"]}


def test_a_turn_on_an_existing_chat_sends_auth_limits_one_read_one_write_and_its_usage(
    app, client, admin
):
    add_chats(app, "admin", 1, 10, "c")
    statements = turn(app, client, admin, "c0")
    expected = pipeline_statements(app) + turn_own_statements(app)
    assert len(statements) == expected, "\n".join(statements)


def test_a_turn_on_an_existing_chat_fits_the_budget_of_five_statements_on_postgresql(
    app, client, admin
):
    add_chats(app, "admin", 1, 10, "c")
    assert len(turn(app, client, admin, "c0")) <= turn_budget(app)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_turn_on_an_existing_chat_counts_its_usage_in_its_own_write_on_postgresql(
    app, client, admin, stream
):
    add_chats(app, "admin", 1, 10, "c")
    turn(app, client, admin, "c0")
    body = {"message": "hi", "chat_id": "c0", "stream": stream}
    with all_statements(app) as statements:
        response = client.post("/chat", json=body, headers=admin.headers)
        assert "error" not in response.get_data(as_text=True)  # read to its end, in the block
    assert response.status_code == 200
    (counting,) = [statement for statement in statements if "usage_daily" in statement]
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    assert ("INSERT INTO messages" in counting) == postgres, counting


def test_a_turn_sends_as_many_statements_for_1000_messages_as_for_10(app, client, admin):
    add_chats(app, "admin", 1, 10, "short")
    add_chats(app, "admin", 1, 1000, "long")
    assert len(turn(app, client, admin, "short0")) == len(turn(app, client, admin, "long0"))


def test_the_chat_list_is_one_statement_for_any_number_of_chats_and_messages(
    app, client, make_user
):
    few, many, long = make_user("few"), make_user("many"), make_user("long")
    add_chats(app, "few", 3, 2, "c")
    add_chats(app, "many", 500, 2, "c")
    add_chats(app, "long", 3, 500, "c")
    for user in (few, many, long):
        for path in ("/chat/history?limit=500", "/chat/history?q=m1"):
            statements = counted(app, client, user, "GET", path)
            assert len(statements) == pipeline_statements(app) + 1, path


def test_the_prompt_list_is_one_statement_for_any_library(app, client, make_user):
    small, large = make_user("small"), make_user("large")
    add_prompts(app, "large", 500)
    for user in (small, large):
        statements = counted(app, client, user, "GET", "/system-prompts")
        assert len(statements) == pipeline_statements(app) + 1


def test_creating_a_prompt_is_one_lookup_and_one_insert_for_any_library(app, client, make_user):
    small, large = make_user("small"), make_user("large")
    add_prompts(app, "large", 500)
    for user in (small, large):
        client.post(
            "/system-prompts", json={"name": "Writer", "content": "x"}, headers=user.headers
        )
        # "Writer!" is slug writer-2: the lookup finds writer taken in the same statement.
        body = {"name": "Writer!", "content": "x"}
        statements = counted(app, client, user, "POST", "/system-prompts", json=body)
        assert len(statements) == pipeline_statements(app) + 2, "\n".join(statements)


def _autocommit_by_statement(app, client, user, method: str, path: str, **kwargs) -> list[bool]:
    """For each statement of the request on the app's engine: did it run outside a
    transaction (the driver in autocommit mode, so no BEGIN and no ROLLBACK round trips)?"""
    modes: list[bool] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        dbapi = conn.connection.dbapi_connection
        modes.append(dbapi.isolation_level is None if conn.dialect.name == "sqlite"
                     else dbapi.autocommit)  # fmt: skip

    with listening(app, "before_cursor_execute", record):
        response = client.open(path, method=method, headers=user.headers, **kwargs)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return modes


def test_reads_and_a_turn_run_outside_a_transaction_other_writes_inside_one(app, client, admin):
    add_chats(app, "admin", 3, 2, "c")
    read = _autocommit_by_statement(app, client, admin, "GET", "/chat/history")
    assert read and all(read)
    body = {"message": "hi", "chat_id": "c0"}
    turn = _autocommit_by_statement(app, client, admin, "POST", "/chat", json=body)
    # PostgreSQL: the context and the turn's write (one statement, usage included) each
    # alone, no BEGIN or COMMIT round trips (the key is found on the limiter's connection).
    # SQLite, in process, keeps its transactions.
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    assert turn == ([True] * 2 if postgres else [False] * 5)
    body = {"name": "Writer", "content": "x"}
    written = _autocommit_by_statement(app, client, admin, "POST", "/system-prompts", json=body)
    assert written and not any(written)  # the same pooled connections, back in transactions
    assert all(_autocommit_by_statement(app, client, admin, "GET", "/system-prompts"))


def test_reading_a_tree_of_1000_messages_costs_what_a_tree_of_10_does(app, client, admin):
    add_tree(app, "admin", "small", 10)
    add_tree(app, "admin", "large", 1000)
    for path in ("/chat/history/small", "/chat/history/large"):
        statements = counted(app, client, admin, "GET", path)
        assert len(statements) == pipeline_statements(app) + READ_OWN_STATEMENTS, path
    large = client.get("/chat/history/large", headers=admin.headers).get_json()["history"]
    assert len(large["messages"]) > 600  # the branch, not the whole tree of 1000
    assert sorted({len(m["sibling_ids"]) for m in large["messages"]}) == [1, 2]


def tree_turns(app, client, admin, size: int) -> list[int]:
    """The statements of a continue, an edit and a regenerate on a tree of `size`."""
    ids = add_tree(app, "admin", f"t{size}", size)
    chat = f"t{size}"
    bodies = [
        ("/chat", {"message": "hi", "chat_id": chat}),
        ("/chat", {"message": "edited", "chat_id": chat, "parent_id": str(ids["inner"])}),
        ("/chat/regenerate", {"chat_id": chat}),
    ]
    assert client.post("/chat", json=bodies[0][1], headers=admin.headers).status_code == 200
    return [len(counted(app, client, admin, "POST", path, json=body)) for path, body in bodies]


def test_continue_edit_and_regenerate_cost_the_same_on_trees_of_10_and_1000(app, client, admin):
    small, large = tree_turns(app, client, admin, 10), tree_turns(app, client, admin, 1000)
    assert small == large
    assert small == [pipeline_statements(app) + turn_own_statements(app)] * 3
    assert max(small) <= turn_budget(app)


def test_switching_and_deleting_a_branch_cost_the_same_on_trees_of_10_and_1000(app, client, admin):
    counts = []
    for size in (10, 1000):
        ids = add_tree(app, "admin", f"t{size}", size)
        body = {"message_id": str(ids["inner"])}
        switching = counted(app, client, admin, "POST", f"/chat/history/t{size}/switch", json=body)
        deleting = counted(
            app, client, admin, "DELETE", f"/chat/history/t{size}/messages/{ids['inner']}"
        )
        counts.append((len(switching), len(deleting)))
    assert counts[0] == counts[1]


@contextmanager
def walks_executed(app: Flask) -> Iterator[list[object]]:
    """The statements walking a branch (recursive CTEs) that the block's requests executed."""
    executed: list[object] = []

    def record(conn, clauseelement, multiparams, params, execution_options) -> None:  # noqa: ANN001
        if "WITH RECURSIVE" in str(clauseelement):
            executed.append(clauseelement)

    with listening(app, "before_execute", record):
        yield executed


@pytest.mark.parametrize(
    ("method", "path", "body_of"),
    [
        ("GET", "/chat/history", lambda ids: None),
        ("GET", "/chat/history/tree", lambda ids: None),
        ("POST", "/chat", lambda ids: {"message": "hi", "chat_id": "tree"}),
        ("POST", "/chat/history/tree/switch", lambda ids: {"message_id": str(ids["inner"])}),
    ],
    ids=["list", "read", "turn", "switch"],
)
def test_a_branch_walk_is_built_once_and_only_bound(app, client, admin, method, path, body_of):
    """Building one costs more than running it (a chat read that built its own took 6.6 ms
    in a worker, 2.7 ms without): the list, a chat read, a turn's context read and a switch
    reuse theirs."""
    body = body_of(add_tree(app, "admin", "tree", 10))
    with walks_executed(app) as executed:
        for _ in range(2):
            response = client.open(path, method=method, headers=admin.headers, json=body)
            assert response.status_code == 200, response.get_data(as_text=True)
    first, second = executed[: len(executed) // 2], executed[len(executed) // 2 :]
    assert first and len(first) == len(second)
    assert all(a is b for a, b in zip(first, second, strict=True))
