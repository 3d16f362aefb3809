# A small image: chatapp under gunicorn (gevent workers), as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////app/instance/chatapp.db
WORKDIR /app

COPY setup.cfg pyproject.toml README.md ./
COPY chatapp ./chatapp
COPY migrations ./migrations
COPY wsgi.py ./
RUN pip install . && useradd --system --create-home --uid 10001 chatapp \
    && mkdir -p /app/instance && chown chatapp /app/instance

USER chatapp
EXPOSE 8000
# `chatapp serve` applies pending migrations once, then starts gunicorn.
CMD ["chatapp", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
