"""Exactness across processes: `chatapp serve --workers 2 --threads 8` under concurrent load."""

from __future__ import annotations

import pytest

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
