"""`GET /me` and `GET /health` against a bare Flask endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

from bench.harness import (
    each_database,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
)

CONCURRENCY = (1, 8)
REQUESTS = 400


def measure_backend(label: str, database_url: str) -> None:
    env, admin_key = prepared_env(database_url, RATE_LIMIT_PER_HOUR="1000000")
    headers = {"Authorization": f"Bearer {admin_key}"}
    rows = []
    with (
        gunicorn_server("bench.baseline_app:app", env) as base,
        gunicorn_server("wsgi:app", env) as url,
    ):
        for concurrency in CONCURRENCY:
            baseline = load(f"{base}/ping", concurrency=concurrency, requests_total=REQUESTS)
            rows.append((f"bare Flask /ping c={concurrency}", baseline, None))
            for path, extra in (("/health", None), ("/me", headers)):
                stats = load(
                    f"{url}{path}", headers=extra, concurrency=concurrency, requests_total=REQUESTS
                )
                rows.append((f"chatapp {path} c={concurrency}", stats, baseline))
    print_table(f"API overhead on {label} (gunicorn gthread -w 2 --threads 8)", rows)


def main() -> None:
    for label, url in each_database():
        measure_backend(label, url)


if __name__ == "__main__":
    main()
