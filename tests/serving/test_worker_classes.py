"""`chatapp serve --worker-class gevent|gthread`: a clean patch, timeouts and outages on gevent."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_KEY, bearer
from tests.servers import chatapp_server, served_env, server_log
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.slow


def streamed(url: str) -> str:
    answer = requests.post(
        f"{url}/chat", json={"message": "Hi", "stream": True}, headers=bearer(ADMIN_KEY), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_importing_the_package_imports_no_ssl():
    """The serving process patches for gevent after `import chatapp`: ssl must not be in yet."""
    probe = "import sys, chatapp.server_process; print('ssl' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_each_worker_class_streams_a_turn_and_stores_it(
    database_url, fake_ollama, tmp_path, worker_class
):
    env = served_env(database_url, fake_ollama.url)
    with chatapp_server(env, tmp_path, workers=1, worker_class=worker_class) as url:
        assert "event: done" in streamed(url)
        history = requests.get(f"{url}/chat/history", headers=bearer(ADMIN_KEY), timeout=10)
        assert history.json()["total"] == 1
    log = server_log(tmp_path)
    assert f"Using worker: {worker_class}" in log
    assert "Warning" not in log  # gevent's MonkeyPatchWarning above all


def test_provider_timeout_still_fires_on_gevent(database_url, fake_ollama, tmp_path):
    fake_ollama.hang = True
    env = served_env(database_url, fake_ollama.url, LLM_TIMEOUT="1")
    with chatapp_server(env, tmp_path, workers=1) as url:
        answer = requests.post(
            f"{url}/chat", json={"message": "Hi"}, headers=bearer(ADMIN_KEY), timeout=30
        )
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "provider_timeout"


def test_database_outage_gives_503_and_recovers_on_gevent(
    empty_postgres_url, fake_ollama, tmp_path
):
    url = make_url(empty_postgres_url)
    with TcpProxy(url.host, url.port) as proxy:
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        with chatapp_server(served_env(proxied, fake_ollama.url), tmp_path) as served:
            me = f"{served}/me"
            assert requests.get(me, headers=bearer(ADMIN_KEY), timeout=10).status_code == 200
            proxy.cut()
            down = requests.get(me, headers=bearer(ADMIN_KEY), timeout=10)
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "database_unavailable"
            assert requests.get(f"{served}/health", timeout=10).status_code == 503
            proxy.restore()
            assert requests.get(me, headers=bearer(ADMIN_KEY), timeout=10).status_code == 200
