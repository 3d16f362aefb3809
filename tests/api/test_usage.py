"""Usage accounting (SPEC section 16): counters equal to what the providers report, per UTC day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api import chatkit, gatewaykit
from tests.api.test_chat_tree_routes import turn_waiting_on_the_model
from tests.api.usagekit import add_usage, at, counters, counts, freeze, my_usage
from tests.conftest import bearer

MODEL = "llama3.1:8b-instruct-q8_0"


def test_a_json_turn_counts_what_the_provider_reported(client, admin):
    reported = chatkit.send(client, admin, "one two three")["usage"]
    assert counters(client, admin) == counts(
        1, 0, reported["prompt_tokens"], reported["completion_tokens"]
    )
    assert reported["completion_tokens"] == 3  # the fake's three tokens


def test_a_streamed_turn_counts_what_the_provider_reported(client, admin):
    events = chatkit.stream(client, admin, "one two three")
    reported = events[-1][1]["usage"]
    assert counters(client, admin) == counts(
        1, 0, reported["prompt_tokens"], reported["completion_tokens"]
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_regenerate_counts_what_the_provider_reported(client, admin, stream):
    first = chatkit.send(client, admin, "one two")
    response = client.post(
        "/chat/regenerate",
        json={"chat_id": first["chat_id"], "stream": stream},
        headers=admin.headers,
    )
    assert response.status_code == 200
    if stream:  # the usage of the `done` event
        again = chatkit.parse_sse(response.get_data(as_text=True))[-1][1]["usage"]
    else:
        again = response.get_json()["usage"]
    assert counters(client, admin) == counts(
        2,
        0,
        first["usage"]["prompt_tokens"] + again["prompt_tokens"],
        first["usage"]["completion_tokens"] + again["completion_tokens"],
    )


def test_gateway_calls_count_json_and_streamed(client, admin):
    answer = gatewaykit.post(client, admin, model=MODEL).get_json()["usage"]
    chunks = gatewaykit.streamed(client, admin, model=MODEL, stream_options={"include_usage": True})
    streamed = next(c["usage"] for c in chunks if isinstance(c, dict) and c.get("usage"))
    assert counters(client, admin) == counts(
        2,
        0,
        answer["prompt_tokens"] + streamed["prompt_tokens"],
        answer["completion_tokens"] + streamed["completion_tokens"],
    )


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_a_failed_call_counts_a_request_and_an_error(client, admin, fake_ollama, path):
    fake_ollama.fail_status = 500
    body = {"message": "hi"} if path == "/chat" else {"messages": gatewaykit.HELLO}
    assert client.post(path, json=body, headers=admin.headers).status_code == 502
    assert counters(client, admin) == counts(1, 1, 0, 0)


def test_turns_on_an_existing_chat_count_each_call_once(client, admin):
    """On PostgreSQL the turn's own write counts these calls; the first, a new chat, alone."""
    answers = [chatkit.send(client, admin, text, chat_id="c") for text in ("a", "b c", "d e f")]
    assert counters(client, admin) == counts(
        3,
        0,
        sum(answer["usage"]["prompt_tokens"] for answer in answers),
        sum(answer["usage"]["completion_tokens"] for answer in answers),
    )


def test_a_failed_call_on_an_existing_chat_counts_a_request_and_an_error(
    client, admin, fake_ollama
):
    first = chatkit.send(client, admin, "hi", chat_id="c")["usage"]
    fake_ollama.fail_status = 500
    body = {"message": "again", "chat_id": "c"}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 502
    assert counters(client, admin) == counts(
        2, 1, first["prompt_tokens"], first["completion_tokens"]
    )


def test_streamed_turns_on_an_existing_chat_count_each_call_once(client, admin):
    """At its Done, a streamed turn's call is counted by the statement that stores it."""
    first = chatkit.send(client, admin, "a", chat_id="c")["usage"]
    done = [chatkit.stream(client, admin, text, chat_id="c")[-1][1]["usage"] for text in "bc"]
    assert counters(client, admin) == counts(
        3,
        0,
        first["prompt_tokens"] + sum(usage["prompt_tokens"] for usage in done),
        first["completion_tokens"] + sum(usage["completion_tokens"] for usage in done),
    )


def test_streams_failing_on_an_existing_chat_count_an_error_each(client, admin, fake_ollama):
    first = chatkit.send(client, admin, "hi", chat_id="c")["usage"]
    fake_ollama.fail_status = 500  # before the first token: the stream never starts
    body = {"message": "again", "chat_id": "c", "stream": True}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 502
    fake_ollama.fail_status = None
    fake_ollama.tokens = ["a", " b", " c", " d"]
    fake_ollama.error_after = 2  # midway: the stream's last event is its error
    assert chatkit.stream(client, admin, "more", chat_id="c")[-1][0] == "error"
    assert counters(client, admin) == counts(
        3, 2, first["prompt_tokens"], first["completion_tokens"] + 2
    )


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_turn_whose_chat_was_deleted_meanwhile_still_counts_its_call_once(
    client, admin, live_server, fake_ollama, stream
):
    """The turn's write, which would have counted the call, fails whole: counted alone."""
    first = chatkit.send(client, admin, "one", chat_id="doomed")["usage"]
    body = {"message": "two", "chat_id": "doomed", "stream": stream}
    thread, box = turn_waiting_on_the_model(live_server, admin, fake_ollama, body)
    assert client.delete("/chat/delete/doomed", headers=admin.headers).status_code == 200
    thread.join(60)
    if stream:  # the status was sent before the write: its failure is the last event
        name, data = chatkit.parse_sse(box[0].text)[-1]
        assert (name, data["error"]["code"]) == ("error", "chat_not_found"), box[0].text
    else:
        assert box[0].status_code == 404, box[0].text
    counted = counters(client, admin)
    assert (counted["requests"], counted["errors"]) == (2, 0)
    assert counted["completion_tokens"] > first["completion_tokens"]


def test_a_stream_failing_midway_counts_an_error_and_what_it_streamed(client, admin, fake_ollama):
    fake_ollama.tokens = ["a", " b", " c", " d"]
    fake_ollama.error_after = 2
    events = chatkit.stream(client, admin, "hi")
    assert events[-1][0] == "error"
    assert counters(client, admin) == counts(1, 1, 0, 2)


def test_usage_is_counted_per_model(client, admin):
    chatkit.send(client, admin, "hi")
    chatkit.send(client, admin, "hi", model="qwen2.5:7b")
    chatkit.send(client, admin, "hi", model="qwen2.5:7b")
    days = my_usage(client, admin)["days"]
    assert {(day["model"], day["requests"]) for day in days} == {(MODEL, 1), ("qwen2.5:7b", 2)}


def test_a_call_refused_before_the_provider_counts_nothing(client, admin):
    response = client.post("/chat", json={"message": "x" * 40000}, headers=admin.headers)
    assert response.status_code == 422
    assert my_usage(client, admin)["days"] == []


def test_days_are_utc_days(client, admin, monkeypatch):
    freeze(monkeypatch, at("2026-03-09T23:59:59"))
    chatkit.send(client, admin, "hi")
    freeze(monkeypatch, at("2026-03-10T00:00:00"))
    chatkit.send(client, admin, "hi")
    chatkit.send(client, admin, "hi")
    body = my_usage(client, admin, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert [(day["date"], day["requests"]) for day in body["days"]] == [
        ("2026-03-09", 1),
        ("2026-03-10", 2),
    ]
    only = my_usage(client, admin, **{"from": "2026-03-10", "to": "2026-03-10"})
    assert only["totals"]["requests"] == 2


def test_the_default_period_is_the_last_30_days(app, client, admin, monkeypatch):
    freeze(monkeypatch, at("2026-04-30T12:00:00"))
    add_usage(app, "admin", date(2026, 4, 1), prompt_tokens=5)  # 29 days ago: in
    add_usage(app, "admin", date(2026, 3, 31), prompt_tokens=7)  # 30 days ago: out
    body = my_usage(client, admin)
    assert (body["from"], body["to"]) == ("2026-04-01", "2026-04-30")
    assert body["totals"] == {
        "requests": 1,
        "prompt_tokens": 5,
        "completion_tokens": 0,
        "cost": 0.0,
    }


def test_me_usage_has_the_spec_shape(client, admin):
    chatkit.send(client, admin, "hi")
    body = my_usage(client, admin)
    assert set(body) == {"success", "from", "to", "totals", "days"}
    assert set(body["totals"]) == {"requests", "prompt_tokens", "completion_tokens", "cost"}
    assert set(body["days"][0]) == {
        "date",
        "model",
        "requests",
        "errors",
        "prompt_tokens",
        "completion_tokens",
        "cost",
    }


def test_a_user_sees_only_their_own_usage(client, admin, make_user):
    bob = make_user("bob")
    chatkit.send(client, admin, "hi")
    assert my_usage(client, bob)["days"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"to": "0"},
        {"from": "2026-1-5"},
        {"since": "2026-01-01"},
    ],
)
def test_a_bad_date_is_422(client, admin, query):
    response = client.get("/me/usage", query_string=query, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "query",
    [{"from": "2026-03-10", "to": "2026-03-09"}, {"from": "1900-01-01", "to": "2026-01-01"}],
)
@pytest.mark.parametrize("path", ["/me/usage", "/usage"])
def test_a_period_out_of_order_or_too_long_is_400(client, admin, query, path):
    response = client.get(path, query_string=query, headers=admin.headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/me/usage", "/usage"])
def test_a_period_ending_near_the_first_possible_day_starts_there(client, admin, path):
    response = client.get(path, query_string={"to": "0001-01-05"}, headers=admin.headers)
    assert response.status_code == 200
    assert (response.get_json()["from"], response.get_json()["to"]) == ("0001-01-01", "0001-01-05")


def test_admin_sees_totals_per_user(app, client, admin, make_user):
    make_user("carol")
    bob = make_user("bob")
    chatkit.send(client, bob, "hi")
    chatkit.send(client, bob, "hi")
    chatkit.send(client, admin, "hi")
    body = client.get("/usage", headers=admin.headers).get_json()
    by_user = {row["username"]: row["requests"] for row in body["users"]}
    assert by_user == {"admin": 1, "bob": 2, "carol": 0}
    assert body["totals"]["requests"] == 3
    one = client.get("/usage?user=bob", headers=admin.headers).get_json()
    assert [row["username"] for row in one["users"]] == ["bob"]


def test_admin_usage_of_an_unknown_user_is_404(client, admin):
    response = client.get("/usage?user=nobody", headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "user_not_found"


def test_only_admins_see_everyones_usage(client, make_user):
    bob = make_user("bob")
    assert client.get("/usage", headers=bob.headers).status_code == 403


def test_usage_needs_a_key(client):
    assert client.get("/me/usage").status_code == 401
    assert client.get("/me/usage", headers=bearer("ck_nope")).status_code == 401


def test_yesterday_stays_yesterdays(app, client, admin, monkeypatch):
    freeze(monkeypatch, at("2026-05-02T08:00:00"))
    add_usage(app, "admin", date(2026, 5, 1), model=MODEL, prompt_tokens=10)
    chatkit.send(client, admin, "hi")
    body = my_usage(client, admin)
    assert [(d["date"], d["prompt_tokens"] > 0) for d in body["days"]] == [
        ("2026-05-01", True),
        ("2026-05-02", True),
    ]
    assert body["days"][0]["prompt_tokens"] == 10
    assert date.fromisoformat(body["to"]) - date.fromisoformat(body["from"]) == timedelta(29)
