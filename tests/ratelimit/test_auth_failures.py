"""AUTH_FAILURE_LIMIT: failed authentications per client IP, and only failed ones."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import bearer
from tests.ratelimit.conftest import wait_until
from tests.ratelimit.servers import served_env
from tests.servers import chatapp_server, create_user

pytestmark = pytest.mark.usefixtures("clear_of_a_minute_edge")
WRONG_KEY = bearer("ck_" + "w" * 43)
LIMITED = pytest.mark.parametrize(
    "app_overrides", [{"AUTH_FAILURE_LIMIT": "3/minute"}], indirect=True
)


def failures(client, count: int, headers: dict[str, str] = WRONG_KEY, ip: str = "10.0.0.1"):
    environ = {"REMOTE_ADDR": ip}
    return [client.get("/me", headers=headers, environ_base=environ) for _ in range(count)]


@LIMITED
def test_failures_past_the_limit_get_429_with_retry_after(client):
    responses = failures(client, 4)
    assert [response.status_code for response in responses] == [401, 401, 401, 429]
    refused = responses[-1]
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


@LIMITED
def test_malformed_and_missing_headers_count_as_failures(client):
    failures(client, 1, headers={})
    failures(client, 1, headers={"Authorization": "Basic x"})
    failures(client, 1)
    assert failures(client, 1)[0].status_code == 429


@LIMITED
def test_successful_authentications_never_count(client, admin):
    for _ in range(10):
        response = client.get(
            "/me", headers=admin.headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        assert response.status_code == 200
    assert [response.status_code for response in failures(client, 3)] == [401] * 3


@LIMITED
def test_a_valid_key_from_a_blocked_address_is_still_served(client, admin):
    failures(client, 4)
    assert [r.status_code for r in failures(client, 3, headers=admin.headers)] == [200] * 3
    assert failures(client, 1)[0].status_code == 429  # bad keys from there still are refused


@LIMITED
def test_a_valid_key_from_a_blocked_address_is_judged_by_its_own_limits(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    failures(client, 4)
    statuses = [r.status_code for r in failures(client, 3, headers=bob.headers)]
    assert statuses == [200, 200, 429]


@LIMITED
def test_the_limit_is_per_client_address(client, admin):
    failures(client, 4, ip="10.0.0.1")
    assert failures(client, 1, ip="10.0.0.2")[0].status_code == 401
    assert failures(client, 1, headers=admin.headers, ip="10.0.0.2")[0].status_code == 200


@LIMITED
def test_failures_count_against_no_user_budget(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    failures(client, 3, ip="127.0.0.1")
    assert [client.get("/me", headers=bob.headers).status_code for _ in range(2)] == [200, 200]


@pytest.mark.parametrize(
    "app_overrides",
    [
        {"AUTH_FAILURE_LIMIT": "2/second", "RATELIMIT_STRATEGY": "sliding-window-counter"},
        {"AUTH_FAILURE_LIMIT": "2/second", "RATELIMIT_STRATEGY": "fixed-window"},
    ],
    indirect=True,
    ids=["sliding", "fixed"],
)
def test_the_window_resets(client):
    assert [response.status_code for response in failures(client, 3)] == [401, 401, 429]

    def answered_401_again() -> bool:
        """a failed authentication is answered 401 again"""
        return failures(client, 1)[0].status_code == 401

    wait_until(answered_401_again, timeout=10, interval=0.25)


@pytest.mark.slow
def test_across_workers_bad_keys_are_refused_and_valid_keys_served(database_url, tmp_path):
    env = served_env(DATABASE_URL=database_url, AUTH_FAILURE_LIMIT="3/minute")
    key = create_user(env, tmp_path, "bob")
    with chatapp_server(env, tmp_path, workers=2) as url, requests.Session() as session:

        def status(key: str) -> int:
            # A connection each, so that both workers take turns answering.
            headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
            return session.get(f"{url}/me", headers=headers, timeout=30).status_code

        bad = "ck_" + "w" * 43
        assert [status(bad) for _ in range(8)] == [401] * 3 + [429] * 5
        assert [status(key) for _ in range(6)] == [200] * 6
        assert status(bad) == 429
