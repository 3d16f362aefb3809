"""Exactness across processes: `chatapp serve --workers 2 --threads 8` under concurrent load."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.ratelimit.servers import LIMIT, REQUESTS, fire, served_env
from tests.servers import chatapp_server, create_user

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("strategy", ["sliding-window-counter", "fixed-window"])
def test_exactly_the_limit_succeeds_across_processes(database_url, tmp_path, strategy):
    env = served_env(DATABASE_URL=database_url, RATELIMIT_STRATEGY=strategy)
    key = create_user(env, tmp_path, "bob")
    with chatapp_server(env, tmp_path, workers=2, threads=8) as url:
        statuses = fire(f"{url}/me/keys", key)
    assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}


CHAT_LIMIT = LIMIT // 2


def counts_by_scope(database_url: str) -> dict[str, int]:
    """The rows of `rate_limits`, summed by scope (the `endpoint` column)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT endpoint, count FROM rate_limits")).all()
    finally:
        engine.dispose()
    totals: Counter = Counter()
    for scope, count in rows:
        totals[scope] += count
    return dict(totals)


def test_a_turn_s_two_limits_stay_exact_across_processes(database_url, tmp_path, fake_ollama):
    """A turn sends its hourly and LLM hits as one statement: the LLM hit is written only for
    the requests the hourly limit let through, even when they race for its last places."""
    env = served_env(DATABASE_URL=database_url, OLLAMA_HOST=fake_ollama.url,
                     CHAT_RATE_LIMIT=f"{CHAT_LIMIT}/hour")  # fmt: skip
    key = create_user(env, tmp_path, "bob")
    with chatapp_server(env, tmp_path, workers=2, threads=8) as url:
        statuses = fire(f"{url}/chat", key, body={"message": "hello"})
    assert statuses == {200: CHAT_LIMIT, 429: REQUESTS - CHAT_LIMIT}
    assert counts_by_scope(database_url) == {"global": LIMIT, "llm": CHAT_LIMIT}
