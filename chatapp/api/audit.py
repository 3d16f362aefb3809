"""`GET /audit`: the admin and key actions, newest first (admin only)."""

from __future__ import annotations

from flask import Blueprint

from chatapp.admin_check import admin_required
from chatapp.openapi import api_spec, documented
from chatapp.schemas.audit import AuditEntryOut, AuditQuery, AuditResponse
from chatapp.services import audit

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@admin_required
@api_spec.validate(query=AuditQuery, resp=documented(200, AuditResponse, 403, 422), tags=["audit"])
def audit_log(query: AuditQuery) -> AuditResponse:
    page = audit.entries(query.limit, query.offset, query.action, query.actor)
    entries = [AuditEntryOut.model_validate(entry) for entry in page.entries]
    return AuditResponse(entries=entries, total=page.total)
