"""The baselines, served by the same gunicorn settings as chatapp: a bare Flask JSON endpoint,
and the least a streaming relay does (each of the provider's lines parsed, its text sent on)."""

import json
import os
from collections.abc import Iterator

import requests
from flask import Flask, Response, jsonify, request

app = Flask(__name__)
upstream = requests.Session()


@app.get("/ping")
def ping():  # noqa: ANN201
    return jsonify(success=True, status="ok")


@app.post("/relay")
def relay() -> Response:
    """The request's body to Ollama's `/api/chat` (OLLAMA_HOST), its answer as SSE deltas."""
    answer = upstream.post(
        f"{os.environ['OLLAMA_HOST']}/api/chat", json=request.get_json(), stream=True, timeout=60
    )
    return Response(_deltas(answer), mimetype="text/event-stream")


def _deltas(answer: requests.Response) -> Iterator[str]:
    with answer:
        for line in answer.iter_lines():
            if line:
                content = json.loads(line)["message"]["content"]
                yield f"event: delta\ndata: {json.dumps({'content': content})}\n\n"
