"""chatapp: a self-hostable LLM chat service (Flask REST API).

The package imports nothing on its own: `chatapp.server_process` must patch the standard
library for gevent before flask, requests or ssl are first imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatapp.app import create_app

__version__ = "0.1.0"

__all__ = ["create_app", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from chatapp.app import create_app

        return create_app
    raise AttributeError(f"module 'chatapp' has no attribute {name!r}")
