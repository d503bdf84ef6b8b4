-- Community (issue 11): the points ledger, partner point totals, badges, kudos and the
-- Telegram usernames members are addressed by. Instants in unix ms.

-- Append-only: every award is one row naming its source. The unique source makes an award
-- idempotent: a redelivered update, a job run twice or two instances add it once.
CREATE TABLE points (
    id           INTEGER PRIMARY KEY,
    partner_id   BIGINT  NOT NULL REFERENCES partners (id),
    member_id    BIGINT  REFERENCES members (id),
    points       BIGINT  NOT NULL,
    reason       TEXT    NOT NULL,
    -- sale | sale_reversal | story_featured | kudos | training | podium
    source_kind  TEXT    NOT NULL,
    source_key   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    UNIQUE (source_kind, source_key, partner_id)
);
CREATE INDEX points_partner ON points (partner_id, source_kind);

-- Each partner's sum of points, moved in the transaction of every award: /rank points reads
-- this, never the ledger.
CREATE TABLE point_totals (
    partner_id   BIGINT  PRIMARY KEY REFERENCES partners (id),
    points       BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX point_totals_rank ON point_totals (points DESC, updated_at, partner_id);

-- A badge is awarded once per partner.
CREATE TABLE badges (
    partner_id   BIGINT  NOT NULL REFERENCES partners (id),
    badge        TEXT    NOT NULL,
    awarded_at   BIGINT  NOT NULL,
    PRIMARY KEY (partner_id, badge)
);

-- Kudos given. The giver's n-th kudos of a day takes slot n (unique), so two concurrent
-- kudos cannot both take the last one of the allowance.
CREATE TABLE kudos (
    id           INTEGER PRIMARY KEY,
    from_member  BIGINT  NOT NULL REFERENCES members (id),
    to_member    BIGINT  REFERENCES members (id),
    to_partner   BIGINT  NOT NULL REFERENCES partners (id),
    reason       TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    slot         BIGINT  NOT NULL,
    given_at     BIGINT  NOT NULL,
    UNIQUE (from_member, day, slot)
);
CREATE INDEX kudos_from ON kudos (from_member, given_at);
CREATE INDEX kudos_received ON kudos (given_at, to_partner);

-- The Telegram @username (lowercase, without @) a member was last seen with.
ALTER TABLE members ADD COLUMN username TEXT;
CREATE INDEX members_username ON members (platform, username);
