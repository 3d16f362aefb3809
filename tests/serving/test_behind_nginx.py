"""Two instances behind nginx on one PostgreSQL, with Redis for the limits (SPEC 13).

Debian's nginx, started by the test with a configuration of its own (the README's, with
nginx's default buffering left on): limits exact across both instances, the client's address
from X-Forwarded-For with TRUSTED_PROXIES=1, and a stream that arrives as it is produced.
"""

from __future__ import annotations

import getpass
import http.client
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ADMIN_KEY, bearer
from tests.pgcluster import fresh_database
from tests.ratelimit.servers import REDIS_SERVER, away_from_an_hour_boundary, redis_server
from tests.servers import (
    chatapp_servers,
    free_port,
    require,
    run_cli,
    served_env,
    server_log,
    wait_for_port,
)

pytestmark = pytest.mark.slow

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
)
HOURLY_LIMIT, REQUESTS = 10, 15
CLIENT_ADDRESS = "127.0.0.2"  # loopback too, but not the address nginx connects from

NGINX_CONFIG = """
daemon off;
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream chatapp {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://chatapp;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


@contextmanager
def nginx_in_front(upstreams: list[str], directory: Path) -> Iterator[str]:
    """nginx on a free port, balancing over `upstreams`, in the foreground; yields its URL."""
    port = free_port()
    servers = "\n".join(f"        server {urlsplit(url).netloc};" for url in upstreams)
    # As root, nginx's workers would drop to `nobody`, who can't use the test's directory.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(user=user, directory=directory, servers=servers, port=port)
    )
    error_log = directory / "nginx-error.log"
    command = [NGINX, "-p", str(directory), "-c", str(config), "-e", str(error_log)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, "nginx", lambda: _read(error_log))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _read(log: Path) -> str:
    return log.read_text() if log.exists() else ""


@dataclass
class Deployment:
    url: str  # nginx's
    directory: Path  # the instances' logs and working directory
    env: dict[str, str]


@pytest.fixture(scope="module")
def deployment(postgres_url, _fake_ollama_server, tmp_path_factory) -> Iterator[Deployment]:
    require(NGINX, "nginx")
    require(REDIS_SERVER, "redis-server")
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    directory = tmp_path_factory.mktemp("behind-nginx")
    database_url = fresh_database(postgres_url, "behind_nginx")
    with redis_server(directory) as redis_url:
        env = served_env(
            database_url, _fake_ollama_server.url, RATELIMIT_STORAGE_URI=redis_url,
            TRUSTED_PROXIES="1", LOG_FORMAT="json",
        )  # fmt: skip
        with (
            chatapp_servers(env, directory, 2, ["--workers", "1"]) as instances,
            nginx_in_front(instances, directory) as url,
        ):
            yield Deployment(url, directory, env)


def access_entries(log: str) -> list[dict]:
    """The JSON access log entries of an instance's log."""
    entries = (json.loads(line) for line in log.splitlines() if line.strip())
    return [entry for entry in entries if entry["logger"] == "gunicorn.access"]


def test_a_users_hourly_limit_is_exact_across_both_instances(deployment):
    output = run_cli(
        deployment.env, deployment.directory, "users", "create", "bob",
        "--rate-limit", str(HOURLY_LIMIT),
    )  # fmt: skip
    key = output.strip().splitlines()[-1]
    away_from_an_hour_boundary()
    with requests.Session() as session:
        statuses = Counter(
            session.get(f"{deployment.url}/me/keys", headers=bearer(key), timeout=10).status_code
            for _ in range(REQUESTS)
        )
    assert statuses == {200: HOURLY_LIMIT, 429: REQUESTS - HOURLY_LIMIT}
    logs = [path.read_text() for path in deployment.directory.glob("serve-*.log")]
    served = [any(e["path"] == "/me/keys" for e in access_entries(log)) for log in logs]
    assert served == [True, True]  # nginx spread the requests over both instances


def test_the_client_address_comes_from_x_forwarded_for(deployment):
    """nginx appends the address it saw; the one a client claims for itself is not believed."""
    parts = urlsplit(deployment.url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(CLIENT_ADDRESS, 0)
    )
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "forwarded-for-probe"}
    connection.request("GET", "/health", headers=headers)
    assert connection.getresponse().status == 200
    connection.close()
    deadline = time.monotonic() + 10
    while not (
        probes := [e for e in access_entries(server_log(deployment.directory))
                   if e["request_id"] == "forwarded-for-probe"]
    ):  # fmt: skip
        assert time.monotonic() < deadline, "the request never reached the access log"
        time.sleep(0.1)
    assert probes[0]["remote_addr"] == CLIENT_ADDRESS


def test_a_stream_through_nginx_arrives_as_it_is_produced(deployment, fake_ollama):
    """The second token comes a minute after the first: a buffered stream would show nothing
    before then, and the read below would time out."""
    fake_ollama.tokens = ["first", " second"]
    fake_ollama.token_delay = 60
    parts = urlsplit(deployment.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    body = json.dumps({"message": "Hi", "stream": True})
    connection.request(
        "POST", "/chat", body, {**bearer(ADMIN_KEY), "Content-Type": "application/json"}
    )
    response = connection.getresponse()
    assert response.status == 200
    try:
        assert first_delta(response) == {"content": "first"}
    finally:
        connection.close()


def first_delta(response: http.client.HTTPResponse) -> dict:
    event = ""
    while line := response.readline().decode():
        if line.startswith("event: "):
            event = line.removeprefix("event: ").strip()
        elif line.startswith("data: ") and event == "delta":
            return json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended without a delta")
