-- Deal registration against channel conflict (issue 11 item 4). A partner holds a customer
-- (by its normalised key) until expires_at; at most one registration per customer is active,
-- so two partners racing to register one customer cannot both hold it. A claim on a held
-- customer (a reported sale or a second registration) is a conflict a manager decides.
CREATE TABLE deals (
    id             INTEGER PRIMARY KEY,
    partner_id     INTEGER NOT NULL REFERENCES partners (id),
    member_id      INTEGER REFERENCES members (id),
    customer       TEXT    NOT NULL,
    customer_key   TEXT    NOT NULL,
    expected_minor INTEGER,
    note           TEXT,
    status         TEXT    NOT NULL,
    registered_at  INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    -- When the reminder before expiry is due; cleared by the claim that sends it.
    remind_at      INTEGER,
    reminded_at    INTEGER
);
CREATE UNIQUE INDEX deals_one_active ON deals (customer_key) WHERE status = 'active';
CREATE INDEX deals_partner ON deals (partner_id, status, expires_at);
CREATE INDEX deals_remind ON deals (remind_at) WHERE remind_at IS NOT NULL;

CREATE TABLE deal_conflicts (
    id                   INTEGER PRIMARY KEY,
    customer             TEXT    NOT NULL,
    customer_key         TEXT    NOT NULL,
    deal_id              INTEGER NOT NULL REFERENCES deals (id),
    holder_id            INTEGER NOT NULL REFERENCES partners (id),
    claimant_id          INTEGER NOT NULL REFERENCES partners (id),
    claimant_member_id   INTEGER REFERENCES members (id),
    sale_id              INTEGER REFERENCES sales (id),
    claim_expected_minor INTEGER,
    claim_note           TEXT,
    status               TEXT    NOT NULL,
    winner_id            INTEGER REFERENCES partners (id),
    split_percent        INTEGER,
    opened_at            INTEGER NOT NULL,
    resolved_at          INTEGER,
    resolved_by          INTEGER REFERENCES members (id)
);
CREATE INDEX deal_conflicts_open ON deal_conflicts (id) WHERE status = 'open';
CREATE INDEX deal_conflicts_sale ON deal_conflicts (sale_id) WHERE sale_id IS NOT NULL;
CREATE INDEX deal_conflicts_claim ON deal_conflicts (customer_key, claimant_id);
