"""CHAT_RATE_LIMIT: one LLM budget per user, on top of the hourly one."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("clear_of_a_minute_edge")
LLM_LIMITED = pytest.mark.parametrize(
    "app_overrides", [{"CHAT_RATE_LIMIT": "2/minute"}], indirect=True
)


def send(client, user):
    return client.post("/chat", json={"message": "hello"}, headers=user.headers)


@LLM_LIMITED
def test_llm_calls_past_the_chat_limit_get_429(client, make_user):
    bob = make_user("bob")
    responses = [send(client, bob) for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 429]
    refused = responses[-1]
    assert refused.get_json()["error"] == {
        "code": "rate_limited",
        "message": "Rate limit exceeded for LLM calls: 2/minute per user",
    }
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert responses[0].headers["X-RateLimit-Limit"] == "2"


@LLM_LIMITED
def test_the_chat_limit_is_per_user(client, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    assert [send(client, alice).status_code for _ in range(3)] == [200, 200, 429]
    assert send(client, bob).status_code == 200


@LLM_LIMITED
def test_other_endpoints_are_not_held_by_the_chat_limit(client, make_user):
    bob = make_user("bob")
    [send(client, bob) for _ in range(3)]
    assert client.get("/chat/history", headers=bob.headers).status_code == 200


def test_chat_calls_count_toward_the_hourly_limit_too(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    assert send(client, bob).status_code == 200
    assert send(client, bob).status_code == 200
    assert send(client, bob).status_code == 429


@LLM_LIMITED
def test_me_reports_what_is_left_of_the_chat_limit(client, make_user):
    bob = make_user("bob")
    send(client, bob)
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["chat"]["limit"] == "2/minute"
    assert limits["chat"]["remaining"] == 1


# A turn's hourly and LLM hits go to the storage as one statement; Flask-Limiter's order stays:
# the hourly limit first, and the LLM limit only for a request the hourly limit let through.
@LLM_LIMITED
def test_a_call_refused_by_the_chat_limit_still_counts_toward_the_hourly_limit(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=10)
    assert [send(client, bob).status_code for _ in range(3)] == [200, 200, 429]
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["requests"]["remaining"] == 10 - 3 - 1  # the three calls and this /me
    assert limits["chat"]["remaining"] == 0


@pytest.mark.parametrize("app_overrides", [{"CHAT_RATE_LIMIT": "5/minute"}], indirect=True)
def test_a_call_refused_by_the_hourly_limit_spends_nothing_of_the_chat_limit(
    client, make_user, admin
):
    bob = make_user("bob", rate_limit_per_hour=2)
    assert [send(client, bob).status_code for _ in range(3)] == [200, 200, 429]
    raised = client.patch("/users/bob", json={"rate_limit_per_hour": 100}, headers=admin.headers)
    assert raised.status_code == 200
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["chat"]["remaining"] == 5 - 2
