-- Everything Rally says that is not the direct answer to a command: enqueued in the transaction
-- of the change that causes it, delivered by one sender per platform, at least once, in order
-- per chat. A row in flight carries a lease; a sender that dies leaves it to expire.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    platform        TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    member_id       INTEGER REFERENCES members (id),
    dedupe_key      TEXT    NOT NULL UNIQUE,
    reply           TEXT    NOT NULL,
    locale          TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
-- The head of each chat's queue is found through this index (pending rows only).
CREATE INDEX outbox_pending ON outbox (platform, target, id) WHERE status = 'pending';

-- A member the platform refused to reach (blocked the bot, never started it, left).
ALTER TABLE members ADD COLUMN unreachable_at BIGINT;
