"""GET /metrics with METRICS_TOKEN set: the token alone is let in, not even an admin's key."""

from __future__ import annotations

import pytest

from tests.conftest import bearer


@pytest.fixture
def app_overrides() -> dict:
    return {"METRICS_TOKEN": "scrape-secret-0123456789"}


def test_with_a_metrics_token_only_the_token_is_let_in(client, admin):
    assert client.get("/metrics", headers=bearer("scrape-secret-0123456789")).status_code == 200
    refused = client.get("/metrics", headers=admin.headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/metrics").status_code == 401
