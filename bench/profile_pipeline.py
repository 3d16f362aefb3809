"""Where one request's time goes, in-process on PostgreSQL: `python -m bench.profile_pipeline`.

For `GET /me/keys` and `GET /chat/history` (20 chats), with limiting on and off: the wall time
per request, the statements PostgreSQL received per request (from its own statement log, so
BEGIN, COMMIT and pool pings count too), the cumulative time of each stage of the pipeline, and
the top functions. Under cProfile, Python-heavy stages look bigger than waits on the database.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.pgcluster import Cluster, start_cluster

ENDPOINTS = ("/me/keys", "/chat/history")
CHATS = 20
WARM_UP = 50
TIMED = 200  # requests per round
ROUNDS = 5  # limits on and off take turns, so that the machine's noise falls on both
PROFILED = 300
TOP = 25

# (label, file path fragment, function name): each stage's cumulative time per request.
STAGES = (
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("request ID and log hooks", "chatapp/logs.py", "_assign_request_id"),
    ("authentication", "chatapp/auth.py", "authenticate_request"),
    ("  key lookup (SELECT)", "chatapp/services/keys.py", "find_key_owner"),
    ("  last_used_at write", "chatapp/services/keys.py", "touch"),
    ("Flask-Limiter, hits before the view", "flask_limiter/_extension.py", "_check_request_limit"),
    ("Flask-Limiter, headers after the view", "flask_limiter/_extension.py", "__inject_headers"),
    ("  limiter storage round trips", "chatapp/ratelimit/storage.py", "_run"),
    ("spectree request validation", "spectree/plugins/flask_plugin.py", "request_validation"),
    ("spectree response check + JSON", "spectree/plugins/flask_plugin.py", "validate_response"),
    ("service: list_keys", "chatapp/services/keys.py", "list_keys"),
    ("service: list_chats", "chatapp/services/chats.py", "list_chats"),
    ("session teardown (ROLLBACK)", "sqlalchemy/orm/scoping.py", "remove"),
    ("ORM Session._execute_internal (all)", "sqlalchemy/orm/session.py", "_execute_internal"),
    ("psycopg2 cursor.execute (all)", "~", "<method 'execute' of 'psycopg2.extensions.cursor'"),
)


@contextmanager
def logged_cluster() -> Iterator[Cluster]:
    """A throwaway cluster that logs every statement it receives."""
    cluster = start_cluster()
    try:
        engine = create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("ALTER SYSTEM SET log_statement = 'all'"))
            connection.execute(text("SELECT pg_reload_conf()"))
        engine.dispose()
        yield cluster
    finally:
        cluster.stop()


def statements_logged(cluster: Cluster) -> list[str]:
    log = (cluster.directory / "log").read_text(errors="replace").splitlines()
    return [line.split("statement: ", 1)[1] for line in log if "LOG:  statement: " in line]


def make_app(database_url: str, limits: bool) -> Flask:
    from chatapp import create_app

    return create_app(
        {
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": limits,
            "RATE_LIMIT_PER_HOUR": 10_000_000,
            "RATELIMIT_PURGE_SECONDS": 0,
            "LEGACY_IMPORT_ON_START": False,
            "LOG_LEVEL": "WARNING",
        }
    )


def seed(app: Flask) -> str:
    """A user with CHATS chats of one turn each; returns their key."""
    from chatapp.database import upgrade_database
    from chatapp.extensions import db
    from chatapp.providers import Usage
    from chatapp.services.chats import TurnIds, TurnRecord, store_turn
    from chatapp.services.message_ids import new_ids
    from chatapp.services.users import create_user

    upgrade_database(app)
    with app.app_context():
        user = create_user("profiler")
        for n in range(CHATS):
            system, message, reply = new_ids(3)
            turn = TurnRecord(
                user.user.id, f"chat-{n}", "Be brief.", f"question {n}", datetime.now(UTC),
                f"answer {n}", "fake", Usage(3, 5), "stop", TurnIds(system, message, reply, system),
            )  # fmt: skip
            store_turn(turn)
        db.session.remove()
        return user.clear_key


def get(client: FlaskClient, path: str, key: str) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)


@dataclass(frozen=True)
class Cost:
    """Per request: wall time, our process's CPU and PostgreSQL's CPU, in ms.

    On a busy machine the CPU times vary far less than the wall time, and they are what
    throughput is made of."""

    wall: float
    app_cpu: float
    db_cpu: float


def postgres_cpu_seconds(cluster: Cluster) -> float:
    """CPU used so far by the cluster's server processes (its postmaster's children)."""
    postmaster = (cluster.directory / "data" / "postmaster.pid").read_text().split()[0]
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if fields[1] == postmaster:
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def batch_cost(cluster: Cluster, client: FlaskClient, path: str, key: str) -> Cost:
    for _ in range(WARM_UP):
        get(client, path, key)
    wall, cpu, db_cpu = time.perf_counter(), time.process_time(), postgres_cpu_seconds(cluster)
    for _ in range(TIMED):
        get(client, path, key)
    db_cpu = postgres_cpu_seconds(cluster) - db_cpu
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Cost(*(seconds * 1000 / TIMED for seconds in (wall, cpu, db_cpu)))


def costs(cluster: Cluster, database_url: str, path: str, key: str) -> dict[bool, Cost]:
    """The median cost of a request, limits on (True) and off (False), over ROUNDS rounds.

    One app at a time: the limiter is a module-level object that each app binds anew.
    """
    samples: dict[bool, list[Cost]] = {True: [], False: []}
    for _ in range(ROUNDS):
        for limits, values in samples.items():
            app = make_app(database_url, limits)
            values.append(batch_cost(cluster, app.test_client(), path, key))
            dispose(app)
    return {limits: _median(values) for limits, values in samples.items()}


def _median(samples: list[Cost]) -> Cost:
    return Cost(
        *(statistics.median(getattr(s, name) for s in samples) for name in Cost.__annotations__)
    )


def dispose(app: Flask) -> None:
    from chatapp.extensions import db

    with app.app_context():
        db.engine.dispose()  # the limiter's engine goes with it


def statements_per_request(cluster: Cluster, client: FlaskClient, path: str, key: str) -> list[str]:
    """What PostgreSQL received for one request (the log is flushed by the next statement)."""
    before = len(statements_logged(cluster))
    get(client, path, key)
    time.sleep(0.2)
    return statements_logged(cluster)[before:]


def profile(client: FlaskClient, path: str, key: str) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        get(client, path, key)
    profiler.disable()
    return pstats.Stats(profiler)


def stage_ms(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """(label, cumulative ms per request, calls per request) for each stage found."""
    rows = []
    for label, fragment, name in STAGES:
        entries = [
            (calls, cumulative)
            for (file, _line, func), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items()
            if fragment in file and func.startswith(name)
        ]
        if entries:
            calls = sum(calls for calls, _ in entries)
            cumulative = sum(cumulative for _, cumulative in entries)
            rows.append((label, cumulative * 1000 / PROFILED, round(calls / PROFILED)))
    return rows


def report(path: str, cluster: Cluster, database_url: str, key: str) -> None:
    measured = costs(cluster, database_url, path, key)
    app = make_app(database_url, True)
    client = app.test_client()
    batch_cost(cluster, client, path, key)  # warm
    sent = statements_per_request(cluster, client, path, key)
    stats = profile(client, path, key)
    print(f"\n## GET {path}")
    print(f"per request, median of {ROUNDS} rounds of {TIMED}, no profiler (ms):")
    for limits, cost in measured.items():
        label = "limits on " if limits else "limits off"
        print(
            f"  {label}: wall {cost.wall:.2f}, app CPU {cost.app_cpu:.2f}, DB CPU {cost.db_cpu:.2f}"
        )
    on, off = (measured[limits].app_cpu + measured[limits].db_cpu for limits in (True, False))
    print(f"  the limiter's share of the CPU a request costs: {1 - off / on:.0%}")
    print(f"statements PostgreSQL received for one request: {len(sent)}")
    for statement in sent:
        print(f"    {' '.join(statement.split())[:150]}")
    print(f"\ncumulative ms per request under cProfile ({PROFILED} requests):")
    for label, ms, calls in stage_ms(stats):
        print(f"  {label:<42} {ms:7.3f} ms  ({calls} calls)")
    print(f"\ntop {TOP} functions by own time:")
    stats.sort_stats("tottime").print_stats(TOP)


def main() -> None:
    with logged_cluster() as cluster:
        database_url = cluster.admin_url
        key = seed(make_app(database_url, True))
        for path in sys.argv[1:] or ENDPOINTS:
            report(path, cluster, database_url, key)


if __name__ == "__main__":
    main()
