"""GET /metrics under `chatapp serve --workers 2`: the counts of every worker, summed."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.api.metricskit import parse, value
from tests.conftest import ADMIN_KEY, bearer
from tests.servers import chatapp_server, served_env

pytestmark = pytest.mark.slow

REQUESTS = 40
CHATS = 4
SPEC_METRICS = {  # SPEC section 16's list: each family's type and labels
    "chatapp_http_requests": ("counter", {"method", "route", "status"}),
    "chatapp_http_request_duration_seconds": ("histogram", {"route"}),
    "chatapp_llm_requests": ("counter", {"model", "outcome"}),
    "chatapp_llm_tokens": ("counter", {"model", "kind"}),
    "chatapp_llm_first_token_seconds": ("histogram", {"model"}),
    "chatapp_streams_in_flight": ("gauge", set()),
    "chatapp_rate_limited": ("counter", {"limit"}),
}


def scrape(url: str, headers: dict[str, str]) -> dict:
    response = requests.get(f"{url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return parse(response.text)


def test_counters_sum_the_requests_served_by_both_workers(database_url, fake_ollama, tmp_path):
    temp = tmp_path / "tmp"  # where chatapp serve makes its metrics directory
    temp.mkdir()
    env = served_env(database_url, fake_ollama.url, TMPDIR=str(temp))
    with chatapp_server(env, tmp_path, workers=2) as url:
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them over both
            assert requests.get(f"{url}/me", headers=bearer(ADMIN_KEY), timeout=30).ok
        for _ in range(CHATS):
            body = {"message": "hi"}
            assert requests.post(f"{url}/chat", json=body, headers=bearer(ADMIN_KEY), timeout=30).ok
        samples = scrape(url, bearer(ADMIN_KEY))
        (shared,) = temp.glob("chatapp-metrics-*")
        writers = {path.stem.rsplit("_", 1)[-1] for path in shared.glob("counter_*.db")}
    me = value(samples, "chatapp_http_requests_total", route="/me", method="GET", status="200")
    assert me == REQUESTS
    assert value(samples, "chatapp_llm_requests_total", outcome="ok") == CHATS
    assert value(samples, "chatapp_http_request_duration_seconds_count", route="/chat") == CHATS
    assert len(writers) == 2  # both workers counted some of them
    assert list(temp.iterdir()) == []  # the directory went with the server


def test_each_start_begins_from_zero(database_url, fake_ollama, tmp_path):
    env = served_env(database_url, fake_ollama.url)
    for _ in range(2):
        with chatapp_server(env, tmp_path, workers=2) as url:
            requests.get(f"{url}/me", headers=bearer(ADMIN_KEY), timeout=30)
            samples = scrape(url, bearer(ADMIN_KEY))
        assert value(samples, "chatapp_http_requests_total", route="/me") == 1


def test_metrics_are_refused_without_the_token(database_url, fake_ollama, tmp_path):
    token = "scrape-secret-0123456789"
    env = served_env(database_url, fake_ollama.url, METRICS_TOKEN=token)
    with chatapp_server(env, tmp_path, workers=2) as url:
        assert requests.get(f"{url}/metrics", timeout=30).status_code == 401
        refused = requests.get(f"{url}/metrics", headers=bearer(ADMIN_KEY), timeout=30)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert scrape(url, bearer(token))


def test_every_spec_metric_is_listed_with_its_labels_before_its_first_event(
    database_url, fake_ollama, tmp_path
):
    env = served_env(database_url, fake_ollama.url)
    with chatapp_server(env, tmp_path, workers=2) as url:
        text = requests.get(f"{url}/metrics", headers=bearer(ADMIN_KEY), timeout=30).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for name, (kind, labels) in SPEC_METRICS.items():
        assert families[name].type == kind, name
        assert {label for s in families[name].samples for label in s.labels} - {"le"} == labels
