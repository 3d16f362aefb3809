-- Provision PostgreSQL by hand for chatapp: a login role and a database it owns.
-- Run as a superuser:  psql -v app_password="'change-me'" -f sql/setup.sql
-- Then either let chatapp create the schema (`chatapp db upgrade`, also done by `chatapp serve`)
-- or apply sql/01_schema.sql yourself (it records its migration version, so both agree).
\set ON_ERROR_STOP on

SELECT 'CREATE ROLE chatapp LOGIN PASSWORD ' || :app_password
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chatapp')
\gexec

SELECT 'CREATE DATABASE chatapp OWNER chatapp ENCODING ''UTF8'''
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chatapp')
\gexec
