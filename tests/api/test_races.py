"""Races over real HTTP end in 200, 404 or 409, never in a 500, and leave a consistent state:
one prompt changed, activated and deleted at once; a user deleted while their turn is in
flight; one chat renamed (and deleted) at once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
import requests
from sqlalchemy import Engine, func, select, text

from chatapp.extensions import db
from chatapp.models import Message
from tests import conftest
from tests.api.chatkit import parse_sse, send, wait_for
from tests.api.usagekit import counters

ROUNDS = 6
OK_STATUSES = {200, 404, 409}


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call from its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    responses: list[requests.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        responses[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses)
    return responses  # type: ignore[return-value]


def caller(method: str, url: str, headers: dict, body: dict | None = None):
    return lambda: requests.request(method, url, json=body, headers=headers, timeout=30)


def statuses(responses: list[requests.Response]) -> Counter:
    return Counter(response.status_code for response in responses)


def prompt_race(url: str, user: conftest.TestUser, round_number: int) -> list[Callable]:
    prompt = f"{url}/system-prompts/racer"
    h = user.headers
    return [
        caller("PUT", prompt, h, {"content": f"take {round_number}"}),
        caller("PUT", prompt, h, {"name": f"Racer renamed {round_number}"}),
        caller("PUT", prompt, h, {"description": "changed"}),
        caller("POST", f"{prompt}/activate", h),
        caller("POST", f"{prompt}/activate", h),
        caller("DELETE", prompt, h),
        caller("DELETE", prompt, h),
        caller("POST", f"{url}/system-prompt", h, {"prompt": "the active one, changed"}),
    ]


def test_changing_activating_and_deleting_one_prompt_at_once(live_server, make_user):
    bob = make_user("bob")
    seen: Counter = Counter()
    for round_number in range(ROUNDS):
        create_racer(live_server.url, bob)
        responses = at_once(prompt_race(live_server.url, bob, round_number))
        seen += statuses(responses)
        assert set(statuses(responses)) <= OK_STATUSES, [r.text for r in responses]
        assert_prompts_consistent(live_server.url, bob)
        delete_if_there(f"{live_server.url}/system-prompts/racer", bob)
    assert seen[200] > 0


def create_racer(url: str, user: conftest.TestUser) -> None:
    """The prompt `racer` that the races below are about."""
    body = {"name": "Racer", "content": "go"}
    created = requests.post(f"{url}/system-prompts", json=body, headers=user.headers, timeout=30)
    assert created.status_code == 200, created.text


def assert_prompts_consistent(url: str, user: conftest.TestUser) -> None:
    library = requests.get(f"{url}/system-prompts", headers=user.headers, timeout=30).json()
    active = requests.get(f"{url}/system-prompt", headers=user.headers, timeout=30).json()
    active_ids = [pid for pid, prompt in library["prompts"].items() if prompt["is_active"]]
    assert active_ids == ([active["prompt_id"]] if active["prompt_id"] else [])


def delete_if_there(url: str, user: conftest.TestUser) -> None:
    assert requests.delete(url, headers=user.headers, timeout=30).status_code in (200, 404)


def start_chat(url: str, user: conftest.TestUser, chat_id: str) -> str:
    """A chat with one turn; its history URL."""
    turn = {"message": "Hi", "chat_id": chat_id}
    sent = requests.post(f"{url}/chat", json=turn, headers=user.headers, timeout=30)
    assert sent.status_code == 200, sent.text
    return f"{url}/chat/history/{chat_id}"


def test_renaming_one_chat_twice_at_once(live_server, make_user):
    bob = make_user("bob")
    for round_number in range(ROUNDS):
        chat = start_chat(live_server.url, bob, "renamed")
        titles = [f"title {round_number}-{n}" for n in range(4)]
        responses = at_once([caller("PATCH", chat, bob.headers, {"title": t}) for t in titles])
        assert statuses(responses) == {200: len(titles)}, [r.text for r in responses]
        assert get_title(chat, bob) in titles


def test_renaming_a_chat_while_it_is_deleted(live_server, make_user):
    bob = make_user("bob")
    for _ in range(ROUNDS):
        chat = start_chat(live_server.url, bob, "doomed")
        calls = [caller("PATCH", chat, bob.headers, {"title": f"t{n}"}) for n in range(3)]
        calls.append(caller("DELETE", f"{live_server.url}/chat/delete/doomed", bob.headers))
        responses = at_once(calls)
        assert set(statuses(responses)) <= {200, 404}, [r.text for r in responses]
        assert requests.get(chat, headers=bob.headers, timeout=30).status_code == 404


def get_title(chat_url: str, user: conftest.TestUser) -> str:
    return requests.get(chat_url, headers=user.headers, timeout=30).json()["history"]["title"]


def turn_in_flight(url: str, user: conftest.TestUser, fake_ollama, stream: bool) -> list:
    """Start a turn in a thread; return once the provider has it, with a box for its answer."""
    box: list = []
    body = {"message": "Hi", "chat_id": "last-words", "stream": stream}
    thread = threading.Thread(
        target=lambda: box.append(
            requests.post(f"{url}/chat", json=body, headers=user.headers, timeout=60)
        )
    )
    thread.start()
    wait_for(lambda: fake_ollama.requests)
    box.append(thread)
    return box


def delete_user_during_turn(live_server, admin, fake_ollama, make_user, stream: bool):
    bob = make_user("bob")
    fake_ollama.first_token_delay = 2.0  # the turn waits on the provider while bob goes
    box = turn_in_flight(live_server.url, bob, fake_ollama, stream)
    deleted = requests.delete(f"{live_server.url}/users/bob", headers=admin.headers, timeout=30)
    assert deleted.status_code == 200, deleted.text
    box[0].join(timeout=60)
    assert requests.get(f"{live_server.url}/chat/history", headers=bob.headers).status_code == 401
    return box[1]


def test_a_user_deleted_during_their_json_turn_gets_404(live_server, admin, fake_ollama, make_user):
    answer = delete_user_during_turn(live_server, admin, fake_ollama, make_user, stream=False)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "user_not_found"


def test_a_user_deleted_during_their_stream_gets_a_user_not_found_event(
    live_server, admin, fake_ollama, make_user
):
    answer = delete_user_during_turn(live_server, admin, fake_ollama, make_user, stream=True)
    assert answer.status_code == 200  # sent before the user went
    name, data = parse_sse(answer.text)[-1]
    assert name == "error"
    assert data["error"]["code"] == "user_not_found"


def test_changing_and_deleting_one_user_at_once(live_server, admin, make_user):
    for round_number in range(ROUNDS):
        make_user(f"carol{round_number}")
        user = f"{live_server.url}/users/carol{round_number}"
        calls = [
            caller("PATCH", user, admin.headers, {"rate_limit_per_hour": 50}),
            caller("PATCH", user, admin.headers, {"is_active": False}),
            caller("DELETE", user, admin.headers),
            caller("DELETE", user, admin.headers),
        ]
        responses = at_once(calls)
        assert set(statuses(responses)) <= OK_STATUSES, [r.text for r in responses]
        assert statuses(responses)[200] >= 1, [r.text for r in responses]
        assert requests.get(user, headers=admin.headers, timeout=30).status_code in (404, 405)


def test_turns_racing_on_one_users_chats_are_all_stored_and_all_counted(live_server, client, admin):
    """Each turn's write also bumps the user's one usage row for the day: turns on several
    chats at once (streamed or not) queue on that row, and none is lost or deadlocked."""
    chats = [f"busy{n}" for n in range(4)]
    for chat_id in chats:
        send(client, admin, "first", chat_id=chat_id)
    url = f"{live_server.url}/chat"
    calls = [
        caller("POST", url, admin.headers, {"message": "again", "chat_id": chat_id, "stream": s})
        for chat_id in chats
        for s in (False, True)
    ]
    for _ in range(ROUNDS // 2):
        assert statuses(at_once(calls)) == Counter({200: len(calls)})
    turns = len(chats) + ROUNDS // 2 * len(calls)
    assert counters(client, admin)["requests"] == turns
    with live_server.app.app_context():  # turns racing on one chat become sibling branches
        stored = db.session.scalar(select(func.count(Message.id)))
        db.session.remove()
    assert stored == len(chats) + 2 * turns  # each chat's system message, then two a turn


# SQLite locks the whole database: there, no two rows are taken in any order.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_activating_a_prompt_locks_it_before_the_user_as_a_deletion_does(live_server, make_user):
    """A deletion locks the prompt, then its ON DELETE SET NULL the user: an activation that
    took the user's row first deadlocked with it (a 503). Here a transaction holds the prompt
    as a deletion would, and then wants the user's row, while the activation waits."""
    bob = make_user("bob")
    create_racer(live_server.url, bob)
    with live_server.app.app_context():
        engine = db.engine
    with engine.connect() as deleting:
        deleting.execute(text("SET lock_timeout = '5s'"))
        prompt_id = deleting.execute(
            text("SELECT id FROM system_prompts WHERE slug = 'racer' FOR UPDATE")
        ).scalar_one()
        responses: list[requests.Response] = []
        activate = caller("POST", f"{live_server.url}/system-prompts/racer/activate", bob.headers)
        activating = threading.Thread(target=lambda: responses.append(activate()))
        activating.start()
        wait_for(lambda: lock_waits(engine) == 1)  # the activation, stuck
        deleting.execute(
            text("UPDATE users SET updated_at = now() WHERE username = 'bob'")
        )  # waits for no one: the activation holds nothing of the user's yet
        deleting.execute(text("DELETE FROM system_prompts WHERE id = :id"), {"id": prompt_id})
        deleting.commit()
    activating.join(timeout=30)
    assert responses[0].status_code == 404, responses[0].text


def lock_waits(engine: Engine) -> int:
    """How many sessions of the database wait for a lock (from a connection of its own: a
    transaction sees the statistics views as they were when it first read them)."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    with engine.connect() as watching:
        return watching.execute(text(waiting + " AND wait_event_type = 'Lock'")).scalar_one()
