"""RATELIMIT_STORAGE_URI=redis://... works through Flask-Limiter, against a real redis-server."""

from __future__ import annotations

import pytest
import redis

from tests.ratelimit.conftest import counted_rows
from tests.ratelimit.servers import LIMIT, REQUESTS, fire, served_env
from tests.servers import chatapp_server, create_user


@pytest.fixture
def empty_redis(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.flushall()
    client.close()
    return redis_url


@pytest.fixture
def app_overrides(empty_redis: str) -> dict:
    return {"RATELIMIT_STORAGE_URI": empty_redis}


def test_limits_are_enforced_with_headers_and_429s(app, client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    responses = [client.get("/me/keys", headers=bob.headers) for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 429]
    assert responses[0].headers["X-RateLimit-Remaining"] == "1"
    assert responses[-1].get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in responses[-1].headers


def test_nothing_is_written_to_the_table_and_no_purge_runs(app, client, admin):
    client.get("/me/keys", headers=admin.headers)
    assert counted_rows(app) == 0
    assert "chatapp.rate_limit_purge" not in app.extensions


def test_me_reports_usage_from_redis(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=5)
    client.get("/me/keys", headers=bob.headers)
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["requests"]["remaining"] == 3


@pytest.mark.slow
def test_exactly_the_limit_succeeds_across_processes(database_url, empty_redis, tmp_path):
    env = served_env(DATABASE_URL=database_url, RATELIMIT_STORAGE_URI=empty_redis)
    key = create_user(env, tmp_path, "bob")
    with chatapp_server(env, tmp_path, workers=2, threads=8) as url:
        statuses = fire(f"{url}/me/keys", key)
    assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}
