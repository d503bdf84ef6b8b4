-- Foundation: partners, members, invites, the sales ledger, period totals, idempotency, audit.
-- Money is integer minor units; instants are unix milliseconds.

CREATE TABLE partners (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    region      TEXT,
    tier        TEXT,
    status      TEXT    NOT NULL DEFAULT 'active',
    joined_at   INTEGER NOT NULL
);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    platform         TEXT    NOT NULL,
    platform_user_id TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    partner_id       INTEGER REFERENCES partners (id),
    role             TEXT,
    locale           TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (platform, platform_user_id)
);
CREATE INDEX members_partner ON members (partner_id);

CREATE TABLE invites (
    code        TEXT    PRIMARY KEY,
    partner_id  INTEGER REFERENCES partners (id),
    role        TEXT    NOT NULL,
    created_by  INTEGER REFERENCES members (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_by     INTEGER REFERENCES members (id),
    used_at     INTEGER
);

CREATE TABLE sales (
    id              INTEGER PRIMARY KEY,
    partner_id      INTEGER NOT NULL REFERENCES partners (id),
    amount_minor    INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    program_minor   INTEGER NOT NULL,
    customer        TEXT    NOT NULL,
    customer_key    TEXT    NOT NULL,
    category        TEXT,
    note            TEXT,
    sale_date       TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    reporter_id     INTEGER REFERENCES members (id),
    reported_at     INTEGER NOT NULL,
    decided_by      INTEGER REFERENCES members (id),
    decided_at      INTEGER,
    reason          TEXT,
    UNIQUE (source, idempotency_key)
);
CREATE INDEX sales_partner_period ON sales (partner_id, period, id);
CREATE INDEX sales_pending ON sales (id) WHERE status = 'pending';

-- Maintained in the same transaction as every sale change; rankings read only this table.
-- "approved" counts approved sales; "provisional" also counts pending ones.
CREATE TABLE period_totals (
    period            TEXT    NOT NULL,
    partner_id        INTEGER NOT NULL REFERENCES partners (id),
    approved_minor    INTEGER NOT NULL DEFAULT 0,
    approved_count    INTEGER NOT NULL DEFAULT 0,
    approved_at       INTEGER NOT NULL,
    provisional_minor INTEGER NOT NULL DEFAULT 0,
    provisional_at    INTEGER NOT NULL,
    pending_count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, partner_id)
);
CREATE INDEX period_totals_approved
    ON period_totals (period, approved_minor DESC, approved_at, partner_id);
CREATE INDEX period_totals_provisional
    ON period_totals (period, provisional_minor DESC, provisional_at, partner_id);

-- One row per handled state-changing message, so a redelivery gets the same answer.
CREATE TABLE handled_messages (
    platform    TEXT    NOT NULL,
    chat_id     TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    member_id   INTEGER REFERENCES members (id),
    replies     TEXT    NOT NULL,
    handled_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  INTEGER REFERENCES members (id),
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    before_state TEXT,
    after_state  TEXT
);
