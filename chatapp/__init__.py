"""chatapp: a self-hostable LLM chat service (Flask REST API)."""

from chatapp.app import create_app

__version__ = "0.1.0"

__all__ = ["create_app", "__version__"]
