-- Deal registration against channel conflict (issue 11 item 4). A partner holds a customer
-- (by its normalised key) until expires_at; at most one registration per customer is active,
-- so two partners racing to register one customer cannot both hold it. A claim on a held
-- customer (a reported sale or a second registration) is a conflict a manager decides.
CREATE TABLE deals (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id     BIGINT NOT NULL REFERENCES partners (id),
    member_id      BIGINT REFERENCES members (id),
    customer       TEXT    NOT NULL,
    customer_key   TEXT    NOT NULL,
    expected_minor BIGINT,
    note           TEXT,
    status         TEXT    NOT NULL,
    registered_at  BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    -- When the reminder before expiry is due; cleared by the claim that sends it.
    remind_at      BIGINT,
    reminded_at    BIGINT
);
CREATE UNIQUE INDEX deals_one_active ON deals (customer_key) WHERE status = 'active';
CREATE INDEX deals_partner ON deals (partner_id, status, expires_at);
CREATE INDEX deals_remind ON deals (remind_at) WHERE remind_at IS NOT NULL;

CREATE TABLE deal_conflicts (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer             TEXT    NOT NULL,
    customer_key         TEXT    NOT NULL,
    deal_id              BIGINT NOT NULL REFERENCES deals (id),
    holder_id            BIGINT NOT NULL REFERENCES partners (id),
    claimant_id          BIGINT NOT NULL REFERENCES partners (id),
    claimant_member_id   BIGINT REFERENCES members (id),
    sale_id              BIGINT REFERENCES sales (id),
    claim_expected_minor BIGINT,
    claim_note           TEXT,
    status               TEXT    NOT NULL,
    winner_id            BIGINT REFERENCES partners (id),
    split_percent        BIGINT,
    opened_at            BIGINT NOT NULL,
    resolved_at          BIGINT,
    resolved_by          BIGINT REFERENCES members (id)
);
CREATE INDEX deal_conflicts_open ON deal_conflicts (id) WHERE status = 'open';
CREATE INDEX deal_conflicts_sale ON deal_conflicts (sale_id) WHERE sale_id IS NOT NULL;
CREATE INDEX deal_conflicts_claim ON deal_conflicts (customer_key, claimant_id);
