"""A throwaway PostgreSQL cluster for the test session, made with initdb and pg_ctl."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
)
SERVICE_USER = "postgres"  # initdb refuses to run as root


def find_pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = (Path(directory) / name for directory in PG_BIN_DIRS)
    return next((str(path) for path in candidates if path.exists()), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_service_user(command: list[str]) -> list[str]:
    """The command run as the cluster's own user when we are root, as PostgreSQL's tools need."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVICE_USER, "--", *command]


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg2://chatapp@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://chatapp@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database on this cluster; its URL."""
        return fresh_database(self.admin_url, name)

    def postgres_pids(self) -> list[int]:
        """The postmaster and every process it forked (backends, checkpointer, ...)."""
        postmaster = int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        return [postmaster, *_children(postmaster)]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every process of the cluster stopped (SIGSTOP), as on a stuck disk; resumed after.

        The kernel still accepts connections and acknowledges packets; nobody answers."""
        pids = self.postgres_pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        pg_ctl = find_pg_bin("pg_ctl")
        command = [pg_ctl, "-D", str(self.directory / "data"), "-m", "immediate", "stop"]
        subprocess.run(as_service_user(command), capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(durable: bool = False) -> Cluster:
    """initdb + pg_ctl start on a free port, tuned for speed (no fsync: it is thrown away),
    or, `durable`, with PostgreSQL's own defaults, as benchmarks want."""
    initdb, pg_ctl = find_pg_bin("initdb"), find_pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError(
            "initdb/pg_ctl not found; install PostgreSQL or set CHATAPP_TEST_DATABASE_URL"
        )
    directory = Path(tempfile.mkdtemp(prefix="chatapp-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, SERVICE_USER)
    data = directory / "data"
    port = _free_port()
    _run([initdb, "-D", str(data), "-U", "chatapp", "--auth=trust", "-E", "UTF8", "--no-sync"])
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"])
    return Cluster(directory, port)


def fresh_database(url: str, name: str) -> str:
    """An empty database (no tables at all) named `name`, on the server of `url`; its URL."""
    parsed = make_url(url)
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _children(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def _run(command: list[str]) -> None:
    result = subprocess.run(as_service_user(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr or result.stdout}")
