"""`GET /chat/history/<id>` of a 1,000-message tree against a 10-message one (SPEC 14).

Reading a chat is the same two statements whatever its size (tests/api/test_statement_counts.py);
this measures what the bigger tree still costs: the recursive walk, its rows and their JSON.
"""

from __future__ import annotations

from bench.harness import (
    each_database,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
)

SIZES = {"small": 10, "large": 1000}
REQUESTS = 300


def seed(env: dict[str, str]) -> None:
    """Both trees, written straight into the database as the statement-count tests do."""
    from chatapp import create_app
    from chatapp.extensions import db
    from tests.api.test_statement_counts import add_tree

    app = create_app(env)
    for chat_id, size in SIZES.items():
        add_tree(app, "admin", chat_id, size)
    with app.app_context():
        db.engine.dispose()


def measure_backend(label: str, database_url: str) -> None:
    env, admin_key = prepared_env(database_url, RATE_LIMIT_PER_HOUR="1000000")
    seed(env)
    headers = {"Authorization": f"Bearer {admin_key}"}
    with gunicorn_server("wsgi:app", env) as url:
        small, large = (
            load(f"{url}/chat/history/{chat_id}", headers=headers, requests_total=REQUESTS)
            for chat_id in SIZES
        )
    rows = [("10-message tree", small, None), ("1,000-message tree", large, small)]
    print_table(f"Reading a chat on {label} (GET /chat/history/<id>, c=1)", rows)


def main() -> None:
    for label, url in each_database():
        measure_backend(label, url)


if __name__ == "__main__":
    main()
