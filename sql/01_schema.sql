-- chatapp schema for PostgreSQL, generated from migrations/ by 'make schema'.
-- Do not edit: change the models, add a migration, and regenerate.
BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE rate_limits (
    key VARCHAR(512) NOT NULL, 
    user_key VARCHAR(128), 
    endpoint VARCHAR(128), 
    count BIGINT NOT NULL, 
    window_seconds INTEGER NOT NULL, 
    expires_at FLOAT NOT NULL, 
    CONSTRAINT pk_rate_limits PRIMARY KEY (key)
);

CREATE INDEX ix_rate_limits_expires_at ON rate_limits (expires_at);

CREATE TABLE users (
    id SERIAL NOT NULL, 
    username VARCHAR(64) NOT NULL, 
    is_admin BOOLEAN NOT NULL, 
    is_active BOOLEAN NOT NULL, 
    rate_limit_per_hour INTEGER, 
    active_prompt_id INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_users PRIMARY KEY (id), 
    CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TABLE api_keys (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    prefix VARCHAR(16) NOT NULL, 
    key_hash VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_used_at TIMESTAMP WITH TIME ZONE, 
    revoked_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_api_keys PRIMARY KEY (id), 
    CONSTRAINT fk_api_keys_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash), 
    CONSTRAINT uq_api_keys_prefix UNIQUE (prefix)
);

CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);

CREATE TABLE chats (
    id BIGSERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    chat_id VARCHAR(64) NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    model VARCHAR(200), 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_chats PRIMARY KEY (id), 
    CONSTRAINT fk_chats_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_chats_user_id_chat_id UNIQUE (user_id, chat_id)
);

CREATE INDEX ix_chats_user_id_updated_at ON chats (user_id, updated_at);

CREATE TABLE system_prompts (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    slug VARCHAR(64) NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    content TEXT NOT NULL, 
    description VARCHAR(500) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_system_prompts PRIMARY KEY (id), 
    CONSTRAINT fk_system_prompts_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_system_prompts_user_id_name UNIQUE (user_id, name), 
    CONSTRAINT uq_system_prompts_user_id_slug UNIQUE (user_id, slug)
);

CREATE TABLE messages (
    id BIGSERIAL NOT NULL, 
    chat_pk BIGINT NOT NULL, 
    role VARCHAR(16) NOT NULL, 
    content TEXT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    model VARCHAR(200), 
    prompt_tokens INTEGER, 
    completion_tokens INTEGER, 
    finish_reason VARCHAR(16), 
    CONSTRAINT pk_messages PRIMARY KEY (id), 
    CONSTRAINT ck_messages_finish_reason CHECK (finish_reason IS NULL OR finish_reason IN ('stop', 'length', 'cancelled')), 
    CONSTRAINT ck_messages_role CHECK (role IN ('system', 'user', 'assistant')), 
    CONSTRAINT fk_messages_chat_pk_chats FOREIGN KEY(chat_pk) REFERENCES chats (id) ON DELETE CASCADE
);

CREATE INDEX ix_messages_chat_pk_id ON messages (chat_pk, id);

ALTER TABLE users ADD CONSTRAINT fk_users_active_prompt_id_system_prompts FOREIGN KEY(active_prompt_id) REFERENCES system_prompts (id) ON DELETE SET NULL;

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE legacy_imports (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    kind VARCHAR(16) NOT NULL, 
    legacy_id VARCHAR(64) NOT NULL, 
    imported_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_legacy_imports PRIMARY KEY (id), 
    CONSTRAINT fk_legacy_imports_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_legacy_imports_user_id_kind_legacy_id UNIQUE (user_id, kind, legacy_id)
);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

ALTER TABLE messages ADD COLUMN parent_id BIGINT;

ALTER TABLE messages ADD CONSTRAINT fk_messages_parent_id_messages FOREIGN KEY(parent_id) REFERENCES messages (id) ON DELETE CASCADE;

CREATE INDEX ix_messages_parent_id ON messages (parent_id);

ALTER TABLE chats ADD COLUMN current_message_id BIGINT;

ALTER TABLE chats ADD CONSTRAINT fk_chats_current_message_id_messages FOREIGN KEY(current_message_id) REFERENCES messages (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;

UPDATE messages SET parent_id = (SELECT max(previous.id) FROM messages AS previous WHERE previous.chat_pk = messages.chat_pk AND previous.id < messages.id);

UPDATE chats SET current_message_id = (SELECT max(messages.id) FROM messages WHERE messages.chat_pk = chats.id);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

COMMIT;

