"""gunicorn's own logs in our formats: `chatapp serve` names these as its `logger_class`.

Both redact the value of an `api_key` query parameter, which old clients may send, from the
access log. Under LOG_FORMAT=json, gunicorn's error log and access log are JSON lines like the
app's, and an access line carries the request ID the app answered with.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from gunicorn.config import Config
from gunicorn.glogging import Logger

from chatapp.logs import REQUEST_ID_HEADER, JsonFormatter

_API_KEY_VALUE = re.compile(r"(\bapi_key=)[^&\s\"]*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _API_KEY_VALUE.sub(rf"\g<1>{REDACTED}", text)


class GunicornLogger(Logger):
    """gunicorn's logger, with `api_key` values redacted from every access log field."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value
                for name, value in atoms.items()}  # fmt: skip


class JsonGunicornLogger(GunicornLogger):
    """Every line one JSON object, as the app's own under LOG_FORMAT=json."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        request_id = atoms.get(f"{{{REQUEST_ID_HEADER.lower()}}}o", "-")
        fields = {
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": atoms["M"],
            "user_agent": atoms["a"],
        }
        self.access_log.info(atoms["r"], extra={"request_id": request_id, "fields": fields})
