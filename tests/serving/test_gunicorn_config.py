"""gunicorn as operators know it (SPEC 13): its config file and GUNICORN_CMD_ARGS are honoured
by `chatapp serve`, and its logs follow LOG_FORMAT without ever showing an api_key."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.conftest import ADMIN_KEY, bearer
from tests.servers import chatapp_server, served_env, server_log

pytestmark = pytest.mark.slow

CONFIG_FILE = """
workers = 3  # chatapp serve --workers, given on its command line, wins over this
max_requests = 1000  # GUNICORN_CMD_ARGS wins over this


def post_fork(server, worker):
    server.log.info("post_fork hook from gunicorn.conf.py")
"""


def wait_for_line(tmp_path, text: str) -> str:
    deadline = time.monotonic() + 20
    while text not in (log := server_log(tmp_path)):
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{log}"
        time.sleep(0.1)
    return log


def test_config_file_and_cmd_args_apply_under_the_flags_given(sqlite_url, fake_ollama, tmp_path):
    (tmp_path / "gunicorn.conf.py").write_text(CONFIG_FILE)
    env = served_env(sqlite_url, fake_ollama.url, GUNICORN_CMD_ARGS="--max-requests 7")
    with chatapp_server(env, tmp_path, workers=1) as url:
        for _ in range(10):
            requests.get(f"{url}/health", timeout=10)
        log = wait_for_line(tmp_path, "Autorestarting worker")
    assert "post_fork hook from gunicorn.conf.py" in log
    first_boot = log.split("Autorestarting worker")[0]
    assert first_boot.count("Booting worker") == 1


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    target = tmp_path / "chatapp.db"
    target.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{target}"


def logged_requests(url: str) -> None:
    headers = {**bearer(ADMIN_KEY), "X-Request-ID": "req-from-the-test"}
    assert requests.get(f"{url}/me?api_key=ck_secret", headers=headers, timeout=10).ok
    assert requests.get(f"{url}/health?x=1&api_key=ck_secret&y=2", timeout=10).ok


def test_json_logs_are_json_with_the_request_id_and_no_api_key(sqlite_url, fake_ollama, tmp_path):
    env = served_env(sqlite_url, fake_ollama.url, LOG_FORMAT="json")
    with chatapp_server(env, tmp_path, workers=1) as url:
        logged_requests(url)
        log = wait_for_line(tmp_path, "/health?x=1")
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    me = next(entry for entry in access if entry["path"] == "/me")
    assert me["request_id"] == "req-from-the-test"
    assert me["status"] == 200
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
    assert "ck_secret" not in log


def test_text_access_log_carries_the_request_id_and_no_api_key(sqlite_url, fake_ollama, tmp_path):
    with chatapp_server(served_env(sqlite_url, fake_ollama.url), tmp_path, workers=1) as url:
        logged_requests(url)
        log = wait_for_line(tmp_path, "/health?x=1")
    assert "GET /me?api_key=[redacted] HTTP/1.1" in log
    assert "req-from-the-test" in log
    assert "ck_secret" not in log
