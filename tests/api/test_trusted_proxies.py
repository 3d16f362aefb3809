"""TRUSTED_PROXIES: the client address that auth-failure limiting sees (SPEC 13)."""

from __future__ import annotations

import pytest

from tests.conftest import bearer

BAD_KEY = bearer("ck_" + "x" * 43)


@pytest.fixture(params=[0, 1], ids=["no-proxy", "one-proxy"])
def app_overrides(request: pytest.FixtureRequest) -> dict:
    return {"TRUSTED_PROXIES": request.param, "AUTH_FAILURE_LIMIT": "3/minute"}


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **BAD_KEY}


def test_failures_are_counted_against_the_forwarded_address_only_behind_a_trusted_proxy(
    app, client
):
    first = [client.get("/me", headers=from_address("203.0.113.7")).status_code for _ in range(4)]
    assert first == [401, 401, 401, 429]
    other = client.get("/me", headers=from_address("203.0.113.8")).status_code
    # Behind a trusted proxy each client has its own count; without one the header is a lie
    # anyone can tell, so every request counts against the address the connection came from.
    assert other == (401 if app.config["TRUSTED_PROXIES"] else 429)
