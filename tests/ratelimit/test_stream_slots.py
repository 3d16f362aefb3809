"""MAX_STREAMS_PER_USER: a slot per open stream, given back however the stream ends, leased."""

from __future__ import annotations

import time

import pytest

from chatapp.errors import RateLimited
from chatapp.models import User
from chatapp.ratelimit import limit_streams
from chatapp.ratelimit.streams import random_order
from tests.api.chatkit import wait_for
from tests.servers import Stream, admitted, open_chat_stream

TWO_SLOTS = pytest.mark.parametrize(
    "app_overrides", [{"MAX_STREAMS_PER_USER": 2, "STREAM_PING_SECONDS": 0.5}], indirect=True
)


def open_stream(server, user, chat_id: str = "c") -> Stream:
    return open_chat_stream(server.url, user.headers, chat_id)


@pytest.fixture
def endless(fake_ollama):
    fake_ollama.tokens = [" more"] * 2000
    fake_ollama.token_delay = 0.01
    return fake_ollama


@TWO_SLOTS
def test_a_stream_past_the_limit_gets_429_until_one_ends(live_server, make_user, endless):
    bob = make_user("bob")
    first, second = open_stream(live_server, bob, "a"), open_stream(live_server, bob, "b")
    refused = open_stream(live_server, bob, "c")
    assert (first.status_code, second.status_code, refused.status_code) == (200, 200, 429)
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "At most 2 streams at once per user",
    }
    assert refused.response.headers["Retry-After"] == "5"
    refused.close()
    first.close()  # the client goes away: its slot is free again (noticed on the next write)
    again = wait_for(lambda: admitted(open_stream(live_server, bob, "d")))
    for response in (second, again):
        response.close()


@TWO_SLOTS
def test_the_limit_is_per_user(live_server, make_user, endless):
    bob, carol = make_user("bob"), make_user("carol")
    held = [open_stream(live_server, bob, f"b{i}") for i in range(2)]
    other = open_stream(live_server, carol)
    assert other.status_code == 200
    for response in (*held, other):
        response.close()


@TWO_SLOTS
def test_finished_and_failed_streams_give_their_slots_back(live_server, make_user, fake_ollama):
    bob = make_user("bob")
    for i in range(3):
        finished = open_stream(live_server, bob, f"done-{i}")
        assert b"event: done" in finished.read_all()
    fake_ollama.fail_status = 500  # the provider fails before its first token: a 502, no stream
    assert [open_stream(live_server, bob, f"down-{i}").status_code for i in range(3)] == [502] * 3


@pytest.mark.parametrize(
    "app_overrides", [{"MAX_STREAMS_PER_USER": 0, "STREAM_PING_SECONDS": 0.5}], indirect=True
)
def test_zero_means_no_limit(live_server, make_user, endless):
    bob = make_user("bob")
    held = [open_stream(live_server, bob, f"s{i}") for i in range(4)]
    assert {response.status_code for response in held} == {200}
    for response in held:
        response.close()


ONE_SHORT_LEASE = pytest.mark.parametrize(
    "app_overrides", [{"MAX_STREAMS_PER_USER": 1, "STREAM_PING_SECONDS": 0.5}], indirect=True
)


def take(app, username: str, items=("x",)):
    """A slot taken as a view takes it; the returned iterator holds it until it ends."""
    with app.test_request_context():
        user = User.query.filter_by(username=username).one()
        return limit_streams(user, lambda: iter(items))


def refused(app, username: str) -> bool:
    try:
        take(app, username)
    except RateLimited:
        return True
    return False


@ONE_SHORT_LEASE
def test_a_slot_whose_holder_died_frees_itself_when_its_lease_runs_out(app, make_user):
    make_user("bob")
    take(app, "bob")  # never iterated nor closed: as if its worker had been killed
    assert refused(app, "bob")
    wait_for(lambda: not refused(app, "bob"), timeout=10)  # the lease: 4 pings, 2 s


@ONE_SHORT_LEASE
def test_a_live_stream_keeps_renewing_its_slot_past_its_lease(app, make_user):
    make_user("bob")
    held = take(app, "bob", items=range(12))
    with app.app_context():
        for _ in held:  # 3.6 s in all, well past the 2 s lease
            assert refused(app, "bob")
            time.sleep(0.3)
    assert not refused(app, "bob")


def test_slots_are_tried_each_once_in_a_random_order():
    orders = {tuple(random_order(8)) for _ in range(50)}
    assert all(sorted(order) == list(range(8)) for order in orders)
    assert len(orders) > 1
    assert sorted(random_order(1000)) == list(range(1000))
    assert list(random_order(0)) == []
