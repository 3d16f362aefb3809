"""The health report: the database checked live, the provider through a short cache."""

from __future__ import annotations

from typing import Any

from flask import current_app

from chatapp.database import ping_database


def provider_status() -> dict[str, Any]:
    """The provider's state; the chat issue replaces this with a cached live check."""
    return {"status": "not_configured", "name": current_app.config["LLM_PROVIDER"]}


def health_report() -> tuple[str, dict[str, Any], dict[str, Any]]:
    database = ping_database()
    provider = provider_status()
    if database["status"] != "ok":
        return "down", database, provider
    return (
        ("ok" if provider["status"] in ("ok", "not_configured") else "degraded"),
        database,
        provider,
    )
