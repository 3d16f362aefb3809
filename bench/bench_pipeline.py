"""The request pipeline's own cost (issue 16), all in one run on a durable PostgreSQL.

The list endpoints against a bare Flask app, with limiting on and off; a turn on an existing
chat, its first streamed delta and the `/v1` gateway against calling the provider directly.
Every server runs on the settings the issue measured: gunicorn, 1 gthread worker × 8 threads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from typing import Any

import requests

from bench.bench_chat import DIRECT_BODY, MODEL, fake_ollama_process, first_delta_stats
from bench.harness import Stats, gunicorn_server, load, postgres_database, prepared_env, print_table

CONCURRENCY = (1, 8)
REQUESTS = 400
ROUNDS = 3  # the cases compared take turns in each round; each figure is the median round
CHATS, PROMPTS = 20, 10
# A stream gives its slot back after its last byte, so a first-delta client that starts its
# next stream at once can find the last one's slot still held: at c=8, MAX_STREAMS_PER_USER's
# default (8) answered some with 429.
UNLIMITED = {
    "RATE_LIMIT_PER_HOUR": "1000000000",
    "CHAT_RATE_LIMIT": "1000000000/minute",
    "MAX_STREAMS_PER_USER": "1000",
}
SERVING = {"workers": 1, "threads": 8}
LISTS = ("/chat/history", "/system-prompts")


def seed(url: str, headers: dict[str, str]) -> dict[str, str]:
    """CHATS chats of one turn each, and PROMPTS prompts in the library; each chat's reply."""
    replies = {}
    with requests.Session() as session:
        session.headers.update(headers)
        for n in range(CHATS):
            body = {"message": f"Question {n}", "chat_id": f"chat-{n}"}
            response = session.post(f"{url}/chat", json=body, timeout=30)
            response.raise_for_status()
            replies[body["chat_id"]] = response.json()["message_id"]
        for n in range(PROMPTS):
            body = {"name": f"Prompt {n}", "content": "You are helpful."}
            session.post(f"{url}/system-prompts", json=body, timeout=30).raise_for_status()
    return replies


def next_turn(replies: dict[str, str], stream: bool = False) -> Callable[[], dict[str, Any]]:
    """Bodies that take the seeded chats in turn, each following the chat's first reply.

    So every turn sends the provider the same context (system prompt, one exchange, the new
    message), as the direct call sends its own, however many turns the bench has added: a
    turn that followed the chat's leaf instead would read and send a longer branch each time.
    """
    chats = itertools.cycle(replies.items())

    def body() -> dict[str, Any]:
        chat_id, reply = next(chats)
        return {"message": "Hello", "chat_id": chat_id, "parent_id": reply, "stream": stream}

    return body


def median(runs: list[Stats]) -> Stats:
    return sorted(runs, key=lambda stats: stats.p50_ms)[len(runs) // 2]


def taking_turns(cases: dict[str, Callable[[], Stats]]) -> dict[str, Stats]:
    """Each case's median of ROUNDS rounds, the cases taking turns within each round: a case
    and its baseline are then measured seconds apart, not one after the other's
    rounds, so that the machine's load drifting during the run falls on both alike."""
    runs: dict[str, list[Stats]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, measure in cases.items():
            runs[name].append(measure())
    return {name: median(stats) for name, stats in runs.items()}


def measure_lists(base: str, urls: dict[str, str], headers: dict[str, str]) -> list:
    rows: list = []
    for concurrency in CONCURRENCY:
        load_at = {"concurrency": concurrency, "requests_total": REQUESTS}
        bare = f"bare Flask /ping c={concurrency}"
        cases = {bare: partial(load, f"{base}/ping", **load_at)}
        for path in LISTS:
            for name, url in urls.items():
                measure = partial(load, f"{url}{path}", headers=headers, **load_at)
                cases[f"GET {path} {name} c={concurrency}"] = measure
        rows += against(bare, taking_turns(cases))
    return rows


def measure_turns(ollama: str, url: str, headers: dict[str, str], replies: dict) -> list:
    gateway_body = {"model": MODEL, "messages": DIRECT_BODY["messages"]}
    rows: list = []
    for concurrency in CONCURRENCY:
        load_at = {"concurrency": concurrency, "requests_total": REQUESTS}
        direct = f"fake Ollama /api/chat c={concurrency}"
        cases = {
            direct: partial(load, f"{ollama}/api/chat", "POST", json=DIRECT_BODY, **load_at),
            f"POST /chat, existing chat c={concurrency}": partial(
                load, f"{url}/chat", "POST", headers, next_turn(replies), **load_at
            ),
            f"POST /v1/chat/completions c={concurrency}": partial(
                load, f"{url}/v1/chat/completions", "POST", headers, gateway_body, **load_at
            ),
        }
        rows += against(direct, taking_turns(cases))
    return rows


def measure_first_delta(ollama: str, url: str, headers: dict[str, str], replies: dict) -> list:
    direct_body = {**DIRECT_BODY, "stream": True}
    token, delta = b'"done": false', b"event: delta"
    rows: list = []
    for concurrency in CONCURRENCY:
        direct = f"fake Ollama first token c={concurrency}"
        turn = next_turn(replies, stream=True)
        cases = {
            direct: partial(
                first_delta_stats, ollama, "/api/chat", direct_body, {}, token, concurrency
            ),
            f"first delta, existing chat c={concurrency}": partial(
                first_delta_stats, url, "/chat", turn, headers, delta, concurrency
            ),
        }
        rows += against(direct, taking_turns(cases))
    return rows


def against(baseline: str, measured: dict[str, Stats]) -> list:
    """Table rows: the baseline's, then each other case's with the baseline to compare it to."""
    return [
        (name, stats, None if name == baseline else measured[baseline])
        for name, stats in measured.items()
    ]


def summary(lists: list, turns: list, deltas: list) -> None:
    """The issue's aims, each as measured above."""
    figures = {name: (stats, base) for name, stats, base in lists + turns + deltas}
    print("\n## Against the aims of issue 16")
    for concurrency in CONCURRENCY:
        for path in LISTS:
            on, bare = figures[f"GET {path} limits on c={concurrency}"]
            off, _ = figures[f"GET {path} limits off c={concurrency}"]
            print(f"GET {path} c={concurrency}: {on.rps / bare.rps:.0%} of bare Flask (aim ≥ 40%)"
                  f", the limiter costs {1 - on.rps / off.rps:.0%} of it (aim ≤ 15%)")  # fmt: skip
    for name, aim in (("POST /chat, existing chat c=1", 5), ("POST /v1/chat/completions c=1", 2),
                      ("first delta, existing chat c=1", 3)):  # fmt: skip
        stats, direct = figures[name]
        print(f"{name}: +{stats.p50_ms - direct.p50_ms:.2f} ms p50 (aim ≤ {aim} ms)")


def main() -> None:
    with fake_ollama_process() as ollama, postgres_database(durable=True) as database_url:
        env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **UNLIMITED)
        headers = {"Authorization": f"Bearer {admin_key}"}
        with (
            gunicorn_server("bench.baseline_app:app", env, **SERVING) as base,
            gunicorn_server("wsgi:app", env, **SERVING) as url,
            gunicorn_server("wsgi:app", {**env, "RATELIMIT_ENABLED": "false"}, **SERVING) as off,
        ):
            replies = seed(url, headers)
            lists = measure_lists(base, {"limits on": url, "limits off": off}, headers)
            turns = measure_turns(ollama, url, headers, replies)
            deltas = measure_first_delta(ollama, url, headers, replies)
    setup = "PostgreSQL with fsync, gunicorn gthread 1 worker × 8 threads"
    print_table(f"List endpoints against bare Flask ({setup}; {CHATS} chats)", lists)
    print_table(f"A turn and the gateway against the direct provider call ({setup})", turns)
    print_table(f"First streamed delta against the provider's first token ({setup})", deltas)
    summary(lists, turns, deltas)
    print(f"(each figure is the median of {ROUNDS} rounds)")


if __name__ == "__main__":
    main()
