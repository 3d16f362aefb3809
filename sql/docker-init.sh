#!/usr/bin/env bash
# For the official postgres image: mount as /docker-entrypoint-initdb.d/10-chatapp.sh.
# The image has already created POSTGRES_USER and POSTGRES_DB; this applies chatapp's schema
# (generated from the migrations) when /chatapp-sql/01_schema.sql is mounted. Without it,
# chatapp creates the schema itself on start (`chatapp serve` runs the migrations first).
set -euo pipefail

schema=/chatapp-sql/01_schema.sql
if [[ -f "$schema" ]]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$schema"
fi
