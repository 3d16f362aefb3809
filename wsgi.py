"""The WSGI entry point: `gunicorn wsgi:app` (prefer `chatapp serve`, which migrates first)."""

from chatapp import create_app

app = create_app()
