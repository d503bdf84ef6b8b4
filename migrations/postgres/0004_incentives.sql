-- Incentive engine: targets, potential, statements and their locking, adjustments, feedback,
-- disputes, certifications and tier changes. Money in minor units, instants in unix ms.

ALTER TABLE partners ADD COLUMN potential_minor BIGINT;
ALTER TABLE sales ADD COLUMN quantity BIGINT;

-- A partner's target for one period; without one the plan's target applies.
CREATE TABLE targets (
    partner_id   BIGINT NOT NULL REFERENCES partners (id),
    period       TEXT    NOT NULL,
    amount_minor BIGINT NOT NULL,
    set_by       BIGINT REFERENCES members (id),
    set_at       BIGINT NOT NULL,
    PRIMARY KEY (partner_id, period)
);

-- Manual adjustments (`/adjust`) and corrections of locked periods; they land on the
-- statement of `period` (an open period).
CREATE TABLE adjustments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id    BIGINT NOT NULL REFERENCES partners (id),
    period        TEXT    NOT NULL,
    amount_minor  BIGINT NOT NULL,
    reason        TEXT    NOT NULL,
    source_period TEXT,
    sale_id       BIGINT REFERENCES sales (id),
    created_by    BIGINT REFERENCES members (id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX adjustments_partner_period ON adjustments (partner_id, period);

-- A closed period; its statements are snapshots and never change again.
CREATE TABLE closed_periods (
    period     TEXT    PRIMARY KEY,
    closed_at  BIGINT NOT NULL,
    closed_by  BIGINT REFERENCES members (id)
);

-- Locked statement snapshots: the lines as computed at close, as JSON.
CREATE TABLE statements (
    partner_id    BIGINT NOT NULL REFERENCES partners (id),
    period        TEXT    NOT NULL,
    plan_id       TEXT,
    plan_version  BIGINT,
    currency      TEXT    NOT NULL,
    total_minor   BIGINT NOT NULL,
    lines         TEXT    NOT NULL,
    locked_at     BIGINT NOT NULL,
    PRIMARY KEY (period, partner_id)
);

CREATE TABLE feedback (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id  BIGINT NOT NULL REFERENCES partners (id),
    score       BIGINT NOT NULL,
    comment     TEXT,
    given_by    BIGINT REFERENCES members (id),
    given_at    BIGINT NOT NULL
);
CREATE INDEX feedback_partner ON feedback (partner_id, given_at);

CREATE TABLE disputes (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   BIGINT NOT NULL REFERENCES partners (id),
    period       TEXT    NOT NULL,
    line_no      BIGINT NOT NULL,
    reason       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    opened_by    BIGINT REFERENCES members (id),
    opened_at    BIGINT NOT NULL,
    answer       TEXT,
    answered_by  BIGINT REFERENCES members (id),
    answered_at  BIGINT
);

-- Certifications a partner holds (completed trainings); tiers may require them.
CREATE TABLE certifications (
    partner_id     BIGINT NOT NULL REFERENCES partners (id),
    certification  TEXT    NOT NULL,
    granted_at     BIGINT NOT NULL,
    PRIMARY KEY (partner_id, certification)
);

-- Tier changes, recorded by `rally tiers recompute` for announcements.
CREATE TABLE tier_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id  BIGINT NOT NULL REFERENCES partners (id),
    from_tier   TEXT,
    to_tier     TEXT,
    at          BIGINT NOT NULL,
    announced   BIGINT NOT NULL DEFAULT 0
);
