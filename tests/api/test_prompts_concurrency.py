"""Racing prompt creations over real HTTP end in 200 or 409, never in a 500."""

from __future__ import annotations

import threading
from collections import Counter

import requests

THREADS = 8


def race(url: str, headers: dict[str, str], bodies: list[dict]) -> list[requests.Response]:
    barrier = threading.Barrier(len(bodies))
    responses: list[requests.Response] = []

    def post(body: dict) -> None:
        barrier.wait()
        responses.append(requests.post(f"{url}/system-prompts", json=body, headers=headers))

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_the_same_name_created_at_once_gives_one_200_and_409s(live_server, admin):
    bodies = [{"name": "Racer", "content": f"take {n}"} for n in range(THREADS)]
    responses = race(live_server.url, admin.headers, bodies)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: THREADS - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"conflict"}


def test_names_with_the_same_slug_created_at_once_all_get_distinct_ids(live_server, admin):
    bodies = [{"name": f"Racer{'!' * n}", "content": "go"} for n in range(1, THREADS + 1)]
    responses = race(live_server.url, admin.headers, bodies)
    assert [r.status_code for r in responses] == [200] * THREADS
    slugs = {r.json()["prompt_id"] for r in responses}
    assert slugs == {"racer", *(f"racer-{n}" for n in range(2, THREADS + 1))}
