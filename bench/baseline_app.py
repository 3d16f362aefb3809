"""The baseline: a bare Flask JSON endpoint, served by the same gunicorn settings as chatapp."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():  # noqa: ANN201
    return jsonify(success=True, status="ok")
