"""What the user is told about a failure: one plain sentence, the wait, and what can be done."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.api_types import ApiClientError

# Codes the client makes up itself when there is no HTTP answer to read.
_TRANSPORT_CODES = {"connection_error", "timeout", "transport_error"}
_PROVIDER_MESSAGES = {
    "provider_unavailable": ("provider_down", "the model provider is not reachable."),
    "provider_timeout": ("provider_timeout", "the model provider took too long to answer."),
    "provider_error": ("provider_error", "the model provider answered with an error."),
}


@dataclass(frozen=True)
class ErrorInfo:
    kind: str
    message: str
    retry_after: float | None = None
    offer_settings: bool = False


def describe_error(error: BaseException, action: str = "") -> ErrorInfo:
    """Turn any exception from a worker into what the banner shows."""
    prefix = f"{action} failed: " if action else ""
    if not isinstance(error, ApiClientError):
        return ErrorInfo("crash", f"{prefix}unexpected error ({type(error).__name__}: {error})")
    if error.code == "not_connected":  # no client yet: nothing was sent
        return ErrorInfo("offline", f"{prefix}{error.message}.")
    if error.code in _TRANSPORT_CODES:
        return ErrorInfo("offline", f"{prefix}{error.message}. Is the server running?")
    if error.code in _PROVIDER_MESSAGES:
        kind, text = _PROVIDER_MESSAGES[error.code]
        return ErrorInfo(kind, f"{prefix}{text} ({error.message})")
    if error.status == 401:
        # The server's own reason ("This user is deactivated", "Unknown or revoked API key").
        return ErrorInfo(
            "unauthorized",
            f"{prefix}{_sentence(error.message)} Check the connection in Settings.",
            offer_settings=True,
        )
    if error.status == 429:
        # The banner adds the wait and counts it down.
        return ErrorInfo("rate_limited", f"{prefix}too many requests.", error.retry_after)
    if error.status == 422:
        fields = "; ".join(f"{d.field}: {d.message}".strip(": ") for d in error.details)
        return ErrorInfo("invalid", f"{prefix}{error.message}" + (f" ({fields})" if fields else ""))
    return ErrorInfo(error.code, f"{prefix}{error.message}")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
