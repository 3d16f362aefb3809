"""chatapp through PgBouncer, Debian's, started by the test (the README's "A connection pooler").

Each connection asks PostgreSQL for its `statement_timeout` and `jit` in the `options` startup
parameter, which PgBouncer refuses unless told to ignore it; and the rate limiter prepares its
statements once per connection, which needs session pooling.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from chatapp import create_app
from chatapp.services.users import ensure_admin
from tests.conftest import ADMIN_KEY, bearer
from tests.pgcluster import SERVICE_USER, as_service_user
from tests.servers import free_port, require, wait_for_port

pytestmark = pytest.mark.slow

PGBOUNCER = shutil.which("pgbouncer") or next(
    (path for path in ("/usr/sbin/pgbouncer",) if Path(path).exists()), None
)
THREADS, REQUESTS_EACH = 8, 30

PGBOUNCER_CONFIG = """
[databases]
{database} = host={host} port={port} dbname={database}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/users.txt
pool_mode = session
{ignore}
"""


@contextmanager
def pgbouncer(database_url: str, ignore: str) -> Iterator[str]:
    """PgBouncer in session mode in front of `database_url`; the URL through it."""
    require(PGBOUNCER, "pgbouncer")
    # Its own folder under /tmp: pytest's tmp_path is closed to the user PgBouncer runs as.
    with tempfile.TemporaryDirectory(prefix="chatapp-pgbouncer-") as folder:
        yield from _serve(database_url, Path(folder), ignore)


def _serve(database_url: str, directory: Path, ignore: str) -> Iterator[str]:
    url, port = make_url(database_url), free_port()
    (directory / "users.txt").write_text(f'"{url.username}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(PGBOUNCER_CONFIG.format(
        database=url.database, host=url.host, port=url.port, listen_port=port,
        directory=directory, ignore=f"ignore_startup_parameters = {ignore}" if ignore else "",
    ))  # fmt: skip
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (directory, config, directory / "users.txt"):
            shutil.chown(path, SERVICE_USER)
    process = subprocess.Popen(as_service_user([PGBOUNCER, str(config)]))
    try:
        wait_for_port(port, process, "pgbouncer")
        yield url.set(port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)


def app_through(url: str, fake_ollama_url: str) -> Flask:
    return create_app(
        {"DATABASE_URL": url, "API_KEY": ADMIN_KEY, "OLLAMA_HOST": fake_ollama_url,
         "LEGACY_IMPORT_ON_START": False}
    )  # fmt: skip


def test_by_default_pgbouncer_refuses_our_connections_and_requests_get_503(
    empty_postgres_url, fake_ollama
):
    with pgbouncer(empty_postgres_url, ignore="") as url:
        app = app_through(url, fake_ollama.url)
        answer = app.test_client().get("/me", headers=bearer(ADMIN_KEY))
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "database_unavailable"


def test_session_pooling_with_options_ignored_serves_concurrent_requests_and_exact_limits(
    empty_postgres_url, fake_ollama, caplog
):
    with pgbouncer(empty_postgres_url, ignore="options") as url:
        app = app_through(url, fake_ollama.url)
        with app.app_context():
            ensure_admin(ADMIN_KEY)

        def requests_of_one_client(_: int) -> list[int]:
            client = app.test_client()
            return [
                client.get("/system-prompts", headers=bearer(ADMIN_KEY)).status_code
                for _ in range(REQUESTS_EACH)
            ]

        with caplog.at_level(logging.ERROR), ThreadPoolExecutor(THREADS) as pool:
            codes = Counter(code for codes in pool.map(requests_of_one_client, range(THREADS))
                            for code in codes)  # fmt: skip
        me = app.test_client().get("/me", headers=bearer(ADMIN_KEY)).get_json()
    assert codes == {200: THREADS * REQUESTS_EACH}
    assert not [record for record in caplog.records if "rate limit storage" in record.getMessage()]
    hourly = me["rate_limits"]["requests"]
    assert hourly["remaining"] == int(hourly["limit"].split("/")[0]) - THREADS * REQUESTS_EACH - 1
