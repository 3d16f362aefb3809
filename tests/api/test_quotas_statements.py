"""A quota costs one read per LLM call, and only for a user who has one."""

from __future__ import annotations

from tests.api.test_history_queries import add_chats
from tests.api.test_statement_counts import turn


def test_a_quota_adds_one_statement_to_a_turn_and_no_quota_adds_none(app, client, admin):
    add_chats(app, "admin", 1, 10, "c")
    unlimited = turn(app, client, admin, "c0")
    response = client.patch(
        "/users/admin", json={"token_quota_per_month": 10**9}, headers=admin.headers
    )
    assert response.status_code == 200
    limited = turn(app, client, admin, "c0")
    assert len(limited) == len(unlimited) + 1
    reads = [[s for s in statements if s.startswith("SELECT") and "usage_daily" in s]
             for statements in (unlimited, limited)]  # fmt: skip
    assert [len(found) for found in reads] == [0, 1]
