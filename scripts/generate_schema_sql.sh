#!/usr/bin/env bash
# Write sql/01_schema.sql (or $SCHEMA_OUT) from the migrations, offline: no database is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
{
    echo "-- chatapp schema for PostgreSQL, generated from migrations/ by 'make schema'."
    echo "-- Do not edit: change the models, add a migration, and regenerate."
    DATABASE_URL=postgresql+psycopg2://chatapp@localhost/chatapp \
        "${CHATAPP:-.venv/bin/chatapp}" db upgrade --sql 2>/dev/null
} > "${SCHEMA_OUT:-sql/01_schema.sql}"
