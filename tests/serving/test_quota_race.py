"""Two gunicorn workers on PostgreSQL racing past a token quota: the counters stay exact."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ADMIN_KEY, bearer
from tests.servers import chatapp_server, create_user, served_env

pytestmark = pytest.mark.slow

CALLS = 24
AT_ONCE = 8
QUOTA = 100


def call(url: str, key: str) -> requests.Response:
    return requests.post(f"{url}/chat", json={"message": "hi"}, headers=bearer(key), timeout=60)


def test_racing_calls_are_counted_exactly_and_stop_at_the_quota(
    empty_postgres_url, fake_ollama, tmp_path
):
    fake_ollama.answer_delay = 0.2  # calls overlap, so both workers check before either counts
    env = served_env(empty_postgres_url, fake_ollama.url, CHAT_RATE_LIMIT="1000/minute")
    with chatapp_server(env, tmp_path, workers=2, worker_class="gthread") as url:
        key = create_user(env, tmp_path, "bob")
        patch = {"token_quota_per_day": QUOTA}
        admin = bearer(ADMIN_KEY)
        assert requests.patch(f"{url}/users/bob", json=patch, headers=admin, timeout=30).ok
        with ThreadPoolExecutor(AT_ONCE) as pool:
            answers = list(pool.map(lambda _: call(url, key), range(CALLS)))
        after = call(url, key)
    served = [a.json()["usage"] for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(served) + len(refused) == CALLS
    assert {a.json()["error"]["code"] for a in refused} == {"quota_exceeded"}
    assert after.status_code == 429
    used = sum(u["prompt_tokens"] + u["completion_tokens"] for u in served)
    assert counted(empty_postgres_url) == (len(served), used)  # every call, and nothing else
    per_call = used // len(served)
    # Past the line only the calls already let in complete: at most one per other caller.
    assert math.ceil(QUOTA / per_call) <= len(served) <= math.ceil(QUOTA / per_call) + AT_ONCE - 1


def counted(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT sum(requests), sum(prompt_tokens + completion_tokens) FROM usage_daily"
                " JOIN users ON users.id = usage_daily.user_id WHERE username = 'bob'"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1])
