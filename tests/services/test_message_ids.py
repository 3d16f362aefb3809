"""Message ids: chosen by the application, increasing with time, and what the API accepts."""

from __future__ import annotations

import threading

import pytest

from chatapp.services import message_ids


def test_ids_increase_and_never_repeat_across_threads():
    made: list[list[int]] = []

    def make() -> None:
        made.append([i for _ in range(500) for i in message_ids.new_ids(3)])

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for batch in made for i in batch]
    assert len(set(every)) == len(every) == 4 * 500 * 3
    assert all(batch == sorted(batch) for batch in made)  # each thread's, in order


def test_a_turns_ids_are_consecutive_and_fit_a_signed_64_bit_integer():
    first, second, third = message_ids.new_ids(3)
    assert (second, third) == (first + 1, first + 2)
    assert 2**40 < first < 2**63


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("253864955378816568", 253864955378816568), ("12", 12), ("0", None), ("-1", None),
     ("abc", None), ("1e3", None), ("9" * 19, None), ("٣", None), (" 12", None)],
)  # fmt: skip
def test_only_what_can_be_one_of_our_ids_is_parsed(text, parsed):
    assert message_ids.parse(text) == parsed
