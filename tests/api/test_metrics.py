"""GET /metrics (SPEC section 16): Prometheus text, by route template, for a token or an admin."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from tests.api import chatkit, gatewaykit
from tests.api.metricskit import parse, value
from tests.conftest import bearer

MODEL = "llama3.1:8b-instruct-q8_0"


def scrape(client, headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def test_the_content_type_is_prometheus_own_with_one_charset(client, admin):
    response = client.get("/metrics", headers=admin.headers)
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST


def test_requests_are_counted_by_route_template_never_raw_path(client, admin):
    before = scrape(client, admin.headers)
    for chat_id in ("a", "b", "c"):
        client.get(f"/chat/history/{chat_id}", headers=admin.headers)
    client.get("/no/such/path", headers=admin.headers)
    after = scrape(client, admin.headers)
    labels = {"route": "/chat/history/<chat_id>", "method": "GET", "status": "404"}
    total = "chatapp_http_requests_total"
    assert value(after, total, **labels) - value(before, total, **labels) == 3
    unmatched = {"route": "<unmatched>", "status": "404"}
    assert value(after, total, **unmatched) - value(before, total, **unmatched) == 1
    assert not any("/chat/history/a" == dict(labels).get("route") for _, labels in after)
    count = "chatapp_http_request_duration_seconds_count"
    assert value(after, count, route="/chat/history/<chat_id>") >= 3


def test_llm_calls_and_tokens_are_counted(client, admin, fake_ollama):
    before = scrape(client, admin.headers)
    usage = chatkit.send(client, admin, "one two")["usage"]
    gatewaykit.streamed(client, admin, model=MODEL)
    fake_ollama.fail_status = 500
    client.post("/chat", json={"message": "hi"}, headers=admin.headers)
    after = scrape(client, admin.headers)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, model=MODEL, **labels) - value(
            before, name, model=MODEL, **labels
        )

    assert delta("chatapp_llm_requests_total", outcome="ok") == 2
    assert delta("chatapp_llm_requests_total", outcome="error") == 1
    # The stream's usage is the fake's too: the same prompt, the same three tokens.
    assert delta("chatapp_llm_tokens_total", kind="completion") == 2 * usage["completion_tokens"]
    assert delta("chatapp_llm_first_token_seconds_count") == 2
    assert value(after, "chatapp_streams_in_flight") == value(before, "chatapp_streams_in_flight")


def test_rate_limit_refusals_are_counted_by_limit(client, admin, make_user):
    bob = make_user("bob")
    client.patch("/users/bob", json={"token_quota_per_day": 1}, headers=admin.headers)
    before = scrape(client, admin.headers)
    chatkit.send(client, bob, "hi")
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429
    after = scrape(client, admin.headers)
    name = "chatapp_rate_limited_total"
    assert value(after, name, limit="quota_day") - value(before, name, limit="quota_day") == 1


def test_metrics_need_an_admin_key(client, make_user):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer("ck_wrong")).status_code == 401
    response = client.get("/metrics", headers=make_user("bob").headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
