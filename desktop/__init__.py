"""chatapp-desktop: the PySide6 client for the chatapp LLM chat server."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chatapp")
except PackageNotFoundError:  # run from a checkout without `pip install -e .`
    __version__ = "dev"
