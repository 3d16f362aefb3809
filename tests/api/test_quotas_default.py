"""TOKEN_QUOTA_PER_DAY applies to every user without an override of their own."""

from __future__ import annotations

import pytest

from tests.api import chatkit
from tests.api.test_quotas import chat_requests, set_quota


@pytest.fixture
def app_overrides() -> dict:
    return {"TOKEN_QUOTA_PER_DAY": 1}


def test_the_default_quota_applies_to_every_user(client, make_user, fake_ollama):
    bob = make_user("bob")
    chatkit.send(client, bob, "hi")
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429
    assert chat_requests(fake_ollama) == 1


def test_the_users_override_wins_over_the_default(client, admin, make_user):
    bob = make_user("bob")
    set_quota(client, admin, "bob", token_quota_per_day=1_000_000)
    for _ in range(3):
        chatkit.send(client, bob, "hi")
    user = set_quota(client, admin, "bob", token_quota_per_day=None)  # the default again
    assert user["token_quota_per_day"] is None
    assert client.post("/chat", json={"message": "hi"}, headers=bob.headers).status_code == 429
