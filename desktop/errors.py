"""What the user is told about a failure: one plain sentence, the wait, and what can be done."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    message: str  # what the banner says: the action that failed, and why
    retry_after: float | None = None
    offer_settings: bool = False
    reason: str = ""  # why, without the action


def describe_error(error: BaseException, action: str = "") -> ErrorInfo:
    """Turn any exception from a worker into what the banner shows."""
    info = _describe(error)
    prefix = f"{action} failed: " if action else ""
    return replace(info, message=prefix + info.message, reason=info.message)


def _describe(error: BaseException) -> ErrorInfo:
    if not isinstance(error, ApiClientError):
        return ErrorInfo("crash", f"unexpected error ({type(error).__name__}: {error})")
    if error.code == "not_connected":  # no client yet: nothing was sent
        return ErrorInfo("offline", f"{error.message}.")
    if error.code in _TRANSPORT_CODES:
        return ErrorInfo("offline", f"{error.message}. Is the server running?")
    if error.code in _PROVIDER_MESSAGES:
        kind, text = _PROVIDER_MESSAGES[error.code]
        return ErrorInfo(kind, f"{text} ({error.message})")
    if error.status == 401:
        # The server's own reason ("This user is deactivated", "Unknown or revoked API key").
        return ErrorInfo(
            "unauthorized",
            f"{_sentence(error.message)} Check the connection in Settings.",
            offer_settings=True,
        )
    if error.code == "quota_exceeded":
        # The wait runs to the next UTC day or month: the server's sentence says which, better
        # than a countdown in hours.
        return ErrorInfo("quota_exceeded", f"{_sentence(error.message)} See Account ▸ Usage.")
    if error.status == 429:
        # The banner adds the wait and counts it down.
        return ErrorInfo("rate_limited", "too many requests.", error.retry_after)
    if error.status == 422:
        fields = "; ".join(f"{d.field}: {d.message}".strip(": ") for d in error.details)
        return ErrorInfo("invalid", error.message + (f" ({fields})" if fields else ""))
    return ErrorInfo(error.code, error.message)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
