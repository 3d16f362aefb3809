"""The turn's own logic called directly: which part of the history goes to the provider."""

from __future__ import annotations

from chatapp.providers import Message as M
from chatapp.services.turns import fit_context

SYSTEM = M("system", "S" * 10)


def turn(n: int, size: int = 10) -> list[M]:
    return [M("user", f"{n}" * size), M("assistant", f"{n}" * size)]


def test_context_that_fits_is_sent_whole():
    history = [SYSTEM, *turn(1), *turn(2)]
    assert fit_context(history, M("user", "new"), 1000) == [*history, M("user", "new")]


def test_context_drops_whole_turns_oldest_first():
    history = [SYSTEM, *turn(1), *turn(2), *turn(3)]
    # 10 (system) + 3 (new) + 2 turns of 20 = 53
    assert fit_context(history, M("user", "new"), 53) == [
        SYSTEM,
        *turn(2),
        *turn(3),
        M("user", "new"),
    ]
    assert fit_context(history, M("user", "new"), 52) == [SYSTEM, *turn(3), M("user", "new")]


def test_context_keeps_system_and_new_message_even_over_the_limit():
    history = [SYSTEM, *turn(1)]
    assert fit_context(history, M("user", "x" * 100), 20) == [SYSTEM, M("user", "x" * 100)]


def test_context_never_keeps_an_older_turn_past_a_dropped_one():
    history = [SYSTEM, *turn(1, 1), *turn(2, 50), *turn(3, 1)]
    assert fit_context(history, M("user", "n"), 20) == [SYSTEM, *turn(3, 1), M("user", "n")]


def test_context_groups_a_leading_assistant_message_as_its_own_turn():
    history = [SYSTEM, M("assistant", "welcome"), *turn(1, 2)]
    assert fit_context(history, M("user", "n"), 16) == [SYSTEM, *turn(1, 2), M("user", "n")]
