-- Incentive engine: targets, potential, statements and their locking, adjustments, feedback,
-- disputes, certifications and tier changes. Money in minor units, instants in unix ms.

ALTER TABLE partners ADD COLUMN potential_minor INTEGER;
ALTER TABLE sales ADD COLUMN quantity INTEGER;

-- A partner's target for one period; without one the plan's target applies.
CREATE TABLE targets (
    partner_id   INTEGER NOT NULL REFERENCES partners (id),
    period       TEXT    NOT NULL,
    amount_minor INTEGER NOT NULL,
    set_by       INTEGER REFERENCES members (id),
    set_at       INTEGER NOT NULL,
    PRIMARY KEY (partner_id, period)
);

-- Manual adjustments (`/adjust`) and corrections of locked periods; they land on the
-- statement of `period` (an open period).
CREATE TABLE adjustments (
    id            INTEGER PRIMARY KEY,
    partner_id    INTEGER NOT NULL REFERENCES partners (id),
    period        TEXT    NOT NULL,
    amount_minor  INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    source_period TEXT,
    sale_id       INTEGER REFERENCES sales (id),
    created_by    INTEGER REFERENCES members (id),
    created_at    INTEGER NOT NULL
);
CREATE INDEX adjustments_partner_period ON adjustments (partner_id, period);

-- A closed period; its statements are snapshots and never change again.
CREATE TABLE closed_periods (
    period     TEXT    PRIMARY KEY,
    closed_at  INTEGER NOT NULL,
    closed_by  INTEGER REFERENCES members (id)
);

-- Locked statement snapshots: the lines as computed at close, as JSON.
CREATE TABLE statements (
    partner_id    INTEGER NOT NULL REFERENCES partners (id),
    period        TEXT    NOT NULL,
    plan_id       TEXT,
    plan_version  INTEGER,
    currency      TEXT    NOT NULL,
    total_minor   INTEGER NOT NULL,
    lines         TEXT    NOT NULL,
    locked_at     INTEGER NOT NULL,
    PRIMARY KEY (period, partner_id)
);

CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    partner_id  INTEGER NOT NULL REFERENCES partners (id),
    score       INTEGER NOT NULL,
    comment     TEXT,
    given_by    INTEGER REFERENCES members (id),
    given_at    INTEGER NOT NULL
);
CREATE INDEX feedback_partner ON feedback (partner_id, given_at);

CREATE TABLE disputes (
    id           INTEGER PRIMARY KEY,
    partner_id   INTEGER NOT NULL REFERENCES partners (id),
    period       TEXT    NOT NULL,
    line_no      INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    opened_by    INTEGER REFERENCES members (id),
    opened_at    INTEGER NOT NULL,
    answer       TEXT,
    answered_by  INTEGER REFERENCES members (id),
    answered_at  INTEGER
);

-- Certifications a partner holds (completed trainings); tiers may require them.
CREATE TABLE certifications (
    partner_id     INTEGER NOT NULL REFERENCES partners (id),
    certification  TEXT    NOT NULL,
    granted_at     INTEGER NOT NULL,
    PRIMARY KEY (partner_id, certification)
);

-- Tier changes, recorded by `rally tiers recompute` for announcements.
CREATE TABLE tier_events (
    id          INTEGER PRIMARY KEY,
    partner_id  INTEGER NOT NULL REFERENCES partners (id),
    from_tier   TEXT,
    to_tier     TEXT,
    at          INTEGER NOT NULL,
    announced   INTEGER NOT NULL DEFAULT 0
);
