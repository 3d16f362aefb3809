"""Token quotas per UTC day and month (SPEC section 16): refused before the provider is called."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api import chatkit, gatewaykit
from tests.api.usagekit import add_usage, at, freeze

MODEL = "llama3.1:8b-instruct-q8_0"


def set_quota(client, admin, username: str, **quotas) -> dict:
    response = client.patch(f"/users/{username}", json=quotas, headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["user"]


def chat_requests(fake) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


def test_a_spent_daily_quota_refuses_before_the_provider_is_called(
    app, client, admin, make_user, fake_ollama, monkeypatch
):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=100)
    freeze(monkeypatch, at("2026-06-15T22:00:00"))
    add_usage(app, "bob", date(2026, 6, 15), prompt_tokens=60, completion_tokens=40)
    response = client.post("/chat", json={"message": "hi"}, headers=bob.headers)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "quota_exceeded"
    assert response.headers["Retry-After"] == str(2 * 3600)  # to the next UTC midnight
    assert chat_requests(fake_ollama) == 0


def test_the_call_that_crosses_the_line_completes_and_the_next_is_refused(
    client, admin, make_user, fake_ollama
):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=2)
    first = chatkit.send(client, bob, "one two three")  # uses more than 2 tokens
    assert first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"] > 2
    response = client.post("/chat", json={"message": "hi"}, headers=bob.headers)
    assert response.status_code == 429
    assert chat_requests(fake_ollama) == 1


def test_a_spent_monthly_quota_waits_for_the_first_of_next_month(
    app, client, admin, make_user, monkeypatch
):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_month=50)
    freeze(monkeypatch, at("2026-12-31T23:00:00"))
    add_usage(app, "bob", date(2026, 12, 1), prompt_tokens=50)
    add_usage(app, "bob", date(2026, 11, 30), prompt_tokens=1000)  # last month's: not counted
    response = client.post("/chat", json={"message": "hi"}, headers=bob.headers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert "month" in response.get_json()["error"]["message"]


def test_with_both_quotas_spent_retry_after_waits_for_the_month(
    app, client, admin, make_user, monkeypatch
):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=10, token_quota_per_month=50)
    freeze(monkeypatch, at("2026-06-15T22:00:00"))
    add_usage(app, "bob", date(2026, 6, 1), prompt_tokens=40)
    add_usage(app, "bob", date(2026, 6, 15), prompt_tokens=10)
    response = client.post("/chat", json={"message": "hi"}, headers=bob.headers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 86400 + 2 * 3600)  # to July 1st
    assert "month" in response.get_json()["error"]["message"]


def test_yesterdays_tokens_do_not_count_toward_today(app, client, admin, make_user, monkeypatch):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=100)
    freeze(monkeypatch, at("2026-06-15T00:00:01"))
    add_usage(app, "bob", date(2026, 6, 14), prompt_tokens=1000)
    chatkit.send(client, bob, "hi")


@pytest.mark.parametrize("stream", [False, True])
def test_the_gateway_and_streams_are_refused_too(client, admin, make_user, fake_ollama, stream):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=1)
    gatewaykit.post(client, bob, model=MODEL)
    response = gatewaykit.post(client, bob, model=MODEL, stream=stream)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "quota_exceeded"
    body = {"message": "hi", "stream": stream}
    assert client.post("/chat", json=body, headers=bob.headers).status_code == 429
    assert chat_requests(fake_ollama) == 1


def test_a_regenerate_over_quota_is_refused_before_the_provider(
    client, admin, make_user, fake_ollama
):
    bob = make_user("bob")
    chat_id = chatkit.send(client, bob, "hi")["chat_id"]
    set_quota(client, admin, "bob", token_quota_per_day=1)
    response = client.post("/chat/regenerate", json={"chat_id": chat_id}, headers=bob.headers)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "quota_exceeded"
    assert int(response.headers["Retry-After"]) > 0
    assert chat_requests(fake_ollama) == 1


def test_me_shows_the_quotas_and_what_is_left(client, admin, make_user, monkeypatch):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=1000, token_quota_per_month=5000)
    freeze(monkeypatch, at("2026-02-10T10:00:00"))
    usage = chatkit.send(client, bob, "one two")["usage"]
    used = usage["prompt_tokens"] + usage["completion_tokens"]
    quotas = client.get("/me", headers=bob.headers).get_json()["token_quotas"]
    assert quotas["day"] == {
        "limit": 1000,
        "used": used,
        "remaining": 1000 - used,
        "resets_at": "2026-02-11T00:00:00Z",
    }
    assert quotas["month"]["remaining"] == 5000 - used
    assert quotas["month"]["resets_at"] == "2026-03-01T00:00:00Z"


@pytest.mark.parametrize("value", [0, -1, 1.5, "10", True])
def test_a_bad_quota_is_422_and_changes_nothing(client, admin, make_user, value):
    make_user("bob")
    response = client.patch(
        "/users/bob", json={"token_quota_per_day": value}, headers=admin.headers
    )
    assert response.status_code == 422
    listed = client.get("/users", headers=admin.headers).get_json()["users"]
    assert next(u for u in listed if u["username"] == "bob")["token_quota_per_day"] is None


def test_me_without_quotas_reads_no_usage(client, make_user):
    bob = make_user("bob")
    chatkit.send(client, bob, "hi")
    quotas = client.get("/me", headers=bob.headers).get_json()["token_quotas"]
    assert {period: (q["limit"], q["used"], q["remaining"]) for period, q in quotas.items()} == {
        "day": (None, None, None),
        "month": (None, None, None),
    }


def test_one_quota_shows_the_tokens_used_in_both_periods(client, admin, make_user):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_month=1000)
    usage = chatkit.send(client, bob, "hi")["usage"]
    used = usage["prompt_tokens"] + usage["completion_tokens"]
    quotas = client.get("/me", headers=bob.headers).get_json()["token_quotas"]
    assert (quotas["day"]["limit"], quotas["day"]["used"]) == (None, used)
    assert (quotas["month"]["used"], quotas["month"]["remaining"]) == (used, 1000 - used)
