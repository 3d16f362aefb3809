"""The private Flask-Limiter attributes we reset per app exist in the release setup.cfg allows."""

from __future__ import annotations

import flask_limiter
import pytest
from flask import Flask
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from chatapp.ratelimit.limiter import forget_previous_app


class AttributeRecorder:
    """Stands in for a limiter, to learn which attributes `forget_previous_app` sets."""

    def __init__(self) -> None:
        object.__setattr__(self, "names", [])

    def __setattr__(self, name: str, value: object) -> None:
        self.names.append(name)


def touched_names() -> list[str]:
    recorder = AttributeRecorder()
    forget_previous_app(recorder)  # type: ignore[arg-type]
    return recorder.names


def fresh_limiter() -> flask_limiter.Limiter:
    return flask_limiter.Limiter(key_func=lambda: "someone")


def app_with_strategy(strategy: str) -> Flask:
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_STRATEGY=strategy)
    return app


def test_every_attribute_the_reset_sets_exists_on_a_fresh_flask_limiter():
    names = touched_names()
    missing = [name for name in names if not hasattr(fresh_limiter(), name)]
    assert names and not missing, f"Flask-Limiter {flask_limiter.__version__} has no {missing}"


def test_the_reset_puts_back_each_attribute_as_a_fresh_limiter_has_it():
    limiter, names = fresh_limiter(), touched_names()
    for name in names:
        setattr(limiter, name, object())  # whatever the previous app left behind
    forget_previous_app(limiter)
    fresh = fresh_limiter()
    assert {name: getattr(limiter, name) for name in names} == {
        name: getattr(fresh, name) for name in names
    }


@pytest.mark.parametrize(
    ("reset", "expected"), [(False, MovingWindowRateLimiter), (True, FixedWindowRateLimiter)]
)
def test_a_limiter_bound_again_takes_the_new_apps_strategy_only_after_the_reset(reset, expected):
    """Without the reset Flask-Limiter keeps the first app's strategy: why the reset exists."""
    limiter = fresh_limiter()
    limiter.init_app(app_with_strategy("moving-window"))
    if reset:
        forget_previous_app(limiter)
    limiter.init_app(app_with_strategy("fixed-window"))
    assert type(limiter.limiter) is expected
