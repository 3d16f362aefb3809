"""chatapp_rate_limited_total names the limit that refused: here CHAT_RATE_LIMIT and auth."""

from __future__ import annotations

import pytest

from tests.api import chatkit
from tests.api.metricskit import parse, value
from tests.conftest import bearer


@pytest.fixture
def app_overrides() -> dict:
    return {"CHAT_RATE_LIMIT": "1/minute", "AUTH_FAILURE_LIMIT": "1/minute"}


def limited(client, admin) -> dict:
    return parse(client.get("/metrics", headers=admin.headers).get_data(as_text=True))


def test_the_chat_limit_and_the_auth_failure_limit_are_told_apart(client, admin, make_user):
    bob = make_user("bob")
    before = limited(client, admin)
    chatkit.send(client, bob, "hi")
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429
    for _ in range(2):
        client.get("/me", headers=bearer("ck_wrong"))
    after = limited(client, admin)
    name = "chatapp_rate_limited_total"
    for label in ("chat", "auth_failures"):
        assert value(after, name, limit=label) - value(before, name, limit=label) == 1, label
