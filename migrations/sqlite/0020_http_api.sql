-- The HTTP API (issue 13): API keys, stored as a SHA-256 hash with a short public prefix to
-- find them by; the responses of requests sent with an Idempotency-Key, replayed for 24 h;
-- and the index the TV page's ticker of latest approved sales reads.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL UNIQUE,
    hash        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
-- A name belongs to one live key; a revoked key's name may be given to a new one.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL;

CREATE TABLE api_idempotency (
    key_id          INTEGER NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    status          INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

CREATE INDEX sales_approved_recent
    ON sales ((COALESCE(decided_at, reported_at)), id) WHERE status = 'approved';
