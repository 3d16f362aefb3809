"""Tree reads against their size (SPEC 14): a chat read, the chat list and a turn's context.

- `GET /chat/history/<id>` of a 1,000-message tree against a 10-message one. Reading a chat is
  the same two statements whatever its size (tests/api/test_statement_counts.py); this
  measures what the bigger tree still costs: the recursive walk, its rows and their JSON.
- `GET /chat/history` of LONG_CHATS chats of LONG_MESSAGES messages: the list counts each
  chat's current branch by walking it, a key lookup a message.
- `POST /chat` after the leaf of one of them: a turn reads its whole branch as the context.
  Each turn follows the same message, so every one reads the same LONG_MESSAGES messages.

`BENCH_MODULES=bench_trees python -m bench bench_regression` compares it with an earlier commit.
"""

from __future__ import annotations

import requests

from bench.bench_chat import fake_ollama_process
from bench.harness import (
    each_database,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
)

SIZES = {"small": 10, "large": 1000}
LONG_CHATS, LONG_MESSAGES = 60, 250
REQUESTS = 300


def seed(env: dict[str, str]) -> None:
    """The trees and the long chats, written straight into the database as the tests do."""
    from chatapp import create_app
    from chatapp.extensions import db
    from tests.api.test_history_queries import add_chats
    from tests.api.test_statement_counts import add_tree

    app = create_app(env)
    for chat_id, size in SIZES.items():
        add_tree(app, "admin", chat_id, size)
    add_chats(app, "admin", LONG_CHATS, LONG_MESSAGES, "long")
    with app.app_context():
        db.engine.dispose()


def leaf_of(url: str, chat_id: str, headers: dict[str, str]) -> str:
    response = requests.get(f"{url}/chat/history/{chat_id}", headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()["history"]["messages"][-1]["id"]


def measure_backend(label: str, database_url: str, ollama: str) -> None:
    unlimited = {"RATE_LIMIT_PER_HOUR": "1000000", "CHAT_RATE_LIMIT": "1000000/minute"}
    env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **unlimited)
    seed(env)
    headers = {"Authorization": f"Bearer {admin_key}"}
    with gunicorn_server("wsgi:app", env) as url:
        small, large = (
            load(f"{url}/chat/history/{chat_id}", headers=headers, requests_total=REQUESTS)
            for chat_id in SIZES
        )
        listed = load(f"{url}/chat/history", headers=headers, requests_total=REQUESTS)
        body = {"message": "Hello", "chat_id": "long0", "parent_id": leaf_of(url, "long0", headers)}
        turn = load(f"{url}/chat", "POST", headers, body, requests_total=REQUESTS)
    long_list = f"list {LONG_CHATS + len(SIZES)} chats, {LONG_CHATS} of {LONG_MESSAGES} messages"
    rows = [
        ("read 10-message tree", small, None),
        ("read 1,000-message tree", large, small),
        (long_list, listed, None),
        (f"turn after {LONG_MESSAGES} messages", turn, None),
    ]
    print_table(f"Tree reads on {label} (gunicorn gthread 2 x 8, c=1)", rows)


def main() -> None:
    with fake_ollama_process() as ollama:
        for label, url in each_database():
            measure_backend(label, url, ollama)


if __name__ == "__main__":
    main()
