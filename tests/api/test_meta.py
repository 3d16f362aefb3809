"""The public endpoints: `/`, `/health`, `/openapi.json` and the offline `/docs` page."""

from __future__ import annotations

import re

UNDOCUMENTED = {"/static/<path:filename>"}


def test_root_names_the_service_and_lists_endpoints(client):
    body = client.get("/").get_json()
    assert body["name"] == "chatapp"
    assert body["version"]
    assert "Bearer" in body["authentication"]
    assert {"method": "GET", "path": "/me"} in body["endpoints"]


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] in ("ok", "degraded")
    assert body["database"]["status"] == "ok"
    assert "provider" in body and body["version"]


def test_openapi_document_is_3_1_and_covers_every_route(app, client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDOCUMENTED or rule.rule.startswith("/apidoc"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (
                f"{method} {rule.rule} is missing from /openapi.json"
            )


def test_openapi_documents_request_and_response_schemas(client):
    document = client.get("/openapi.json").get_json()
    create_user = document["paths"]["/users"]["post"]
    assert "requestBody" in create_user
    assert "201" in create_user["responses"] and "409" in create_user["responses"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_works_offline(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/openapi.json" in page
    assert not re.search(r"<script[^>]+src=[\"']https?://", page)
    assert not re.search(r"<link[^>]+href=[\"']https?://", page)
