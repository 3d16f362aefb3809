"""What the banner says for each kind of failure."""

from __future__ import annotations

from desktop.api_types import ApiClientError
from desktop.errors import describe_error


def test_transport_failure_means_offline() -> None:
    info = describe_error(ApiClientError("connection_error", "Cannot reach x"), "Sending")
    assert info.kind == "offline"
    assert info.message.startswith("Sending failed: Cannot reach x")


def test_unauthorized_offers_settings() -> None:
    info = describe_error(ApiClientError("unauthorized", "bad key", 401))
    assert info.kind == "unauthorized" and info.offer_settings


def test_rate_limit_carries_the_wait() -> None:
    info = describe_error(ApiClientError("rate_limited", "slow down", 429, retry_after=12.0))
    assert (info.kind, info.retry_after) == ("rate_limited", 12.0)


def test_validation_error_names_the_fields() -> None:
    details = [{"field": "message", "message": "too long"}]
    info = describe_error(ApiClientError("validation_error", "Invalid", 422, details=details))
    assert info.kind == "invalid" and "message: too long" in info.message


def test_provider_failures_in_band_are_recognised_without_a_status() -> None:
    assert describe_error(ApiClientError("provider_timeout", "slow")).kind == "provider_timeout"
    assert describe_error(ApiClientError("provider_unavailable", "x", 503)).kind == "provider_down"


def test_any_other_exception_is_an_unexpected_error() -> None:
    info = describe_error(ZeroDivisionError("division by zero"), "Exporting")
    assert info.kind == "crash" and "ZeroDivisionError" in info.message
