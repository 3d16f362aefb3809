"""What the rate limiter costs per request, on SQLite and PostgreSQL, against limiting off."""

from __future__ import annotations

from sqlalchemy import event

from bench.harness import (
    Stats,
    each_database,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
)

PATH = "/me/keys"  # authenticated, one small query of its own: the limiter's share shows
CONCURRENCY = (1, 8)
REQUESTS = 400
ROUNDS = 3  # limited and unlimited alternate, so that drift hits both alike
HIGH_LIMIT = "100000000"  # never reached: this measures the bookkeeping, not the 429s


def statements_per_request(env: dict[str, str], headers: dict[str, str]) -> tuple[float, float]:
    """(the app's SQL statements, the limiter's) per request, in process, headers included."""
    from chatapp import create_app
    from chatapp.extensions import db
    from chatapp.ratelimit.storage import ENGINE_KEY

    app = create_app({**env, "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED") != "false"})
    client = app.test_client()
    client.get(PATH, headers=headers)  # the key's last_used_at write happens once a minute
    counts = {"app": 0, "limiter": 0}
    with app.app_context():
        engines = {"app": db.engine, "limiter": app.extensions.get(ENGINE_KEY)}
    for name, engine in engines.items():
        if engine is not None:
            event.listen(engine, "before_cursor_execute", lambda *_, n=name: _count(counts, n))
    for _ in range(50):
        assert client.get(PATH, headers=headers).status_code == 200
    with app.app_context():
        db.engine.dispose()
    return counts["app"] / 50, counts["limiter"] / 50


def _count(counts: dict[str, int], name: str) -> None:
    counts[name] += 1


def median_run(runs: list[Stats]) -> Stats:
    return sorted(runs, key=lambda stats: stats.p50_ms)[len(runs) // 2]


def measure_backend(label: str, database_url: str) -> None:
    env, admin_key = prepared_env(database_url, RATE_LIMIT_PER_HOUR=HIGH_LIMIT)
    headers = {"Authorization": f"Bearer {admin_key}"}
    off_env = {**env, "RATELIMIT_ENABLED": "false"}
    rows = []
    with gunicorn_server("wsgi:app", off_env) as off, gunicorn_server("wsgi:app", env) as on:
        for concurrency in CONCURRENCY:
            runs: dict[str, list[Stats]] = {off: [], on: []}
            for _ in range(ROUNDS):
                for url in (off, on):
                    runs[url].append(
                        load(f"{url}{PATH}", headers=headers, concurrency=concurrency,
                             requests_total=REQUESTS)
                    )  # fmt: skip
            baseline = median_run(runs[off])
            rows.append((f"limiting off  GET {PATH} c={concurrency}", baseline, None))
            rows.append(
                (f"limiting on   GET {PATH} c={concurrency}", median_run(runs[on]), baseline)
            )
    print_table(f"Rate limiter cost on {label} (gunicorn gthread -w 2 --threads 8)", rows)
    on_app, on_limiter = statements_per_request(env, headers)
    off_app, _ = statements_per_request(off_env, headers)
    print(
        f"SQL statements per request: {off_app:.1f} with limiting off; with it on, {on_app:.1f} "
        f"from the app and {on_limiter:.1f} from the limiter (the upsert, in autocommit: one "
        "round trip; the headers reuse the window it returned)"
    )


def main() -> None:
    for label, url in each_database():
        measure_backend(label, url)
    print(f"(median of {ROUNDS} alternating rounds of {REQUESTS} requests each)")


if __name__ == "__main__":
    main()
