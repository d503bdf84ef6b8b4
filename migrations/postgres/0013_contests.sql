-- Sales contests (issue 10). Standings are kept per (contest, partner) in the same transaction
-- as every sale change that counts for a running contest; ranking indexes sync from
-- `change_seq` as they do from period_totals. Money in minor units, instants in unix ms.
CREATE TABLE contest_standings (
    contest_id     TEXT    NOT NULL,
    partner_id     BIGINT NOT NULL REFERENCES partners (id),
    amount_minor   BIGINT  NOT NULL DEFAULT 0,
    sales_count    BIGINT  NOT NULL DEFAULT 0,
    -- Approved sales of the growth base span; filled when the row is first made.
    base_minor     BIGINT  NOT NULL DEFAULT 0,
    target_minor   BIGINT ,
    new_customers  BIGINT  NOT NULL DEFAULT 0,
    reached_at     BIGINT  NOT NULL,
    -- 0 until base and target are filled in (right after the row is first inserted).
    initialized    BIGINT  NOT NULL DEFAULT 0,
    change_seq     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (contest_id, partner_id)
);
CREATE INDEX contest_standings_changes ON contest_standings (contest_id, change_seq);

-- Approved contest sales per customer (normalised name), for `new_customers`: `is_new` says
-- the partner had not sold to the customer before the contest started.
CREATE TABLE contest_customers (
    contest_id    TEXT    NOT NULL,
    partner_id    BIGINT NOT NULL REFERENCES partners (id),
    customer_key  TEXT    NOT NULL,
    sales         BIGINT  NOT NULL DEFAULT 0,
    is_new        BIGINT  NOT NULL,
    PRIMARY KEY (contest_id, partner_id, customer_key)
);

-- Standings are built from the sales once per contest definition (a contest added or changed
-- in the configuration after its start); `fingerprint` is the definition they were built for.
CREATE TABLE contest_builds (
    contest_id   TEXT    PRIMARY KEY,
    fingerprint  TEXT    NOT NULL,
    built_at     BIGINT  NOT NULL
);

-- Ended contests (seasons): the final standings as JSON, written once.
CREATE TABLE contest_archive (
    contest_id    TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_zh       TEXT,
    metric        TEXT    NOT NULL,
    start_date    TEXT    NOT NULL,
    end_date      TEXT    NOT NULL,
    participants  BIGINT  NOT NULL,
    standings     TEXT    NOT NULL,
    archived_at   BIGINT  NOT NULL
);

-- Prizes, one per (contest, place): money lands on the winner's statement of `period` as a
-- `prize` line; a reward is recorded and announced.
CREATE TABLE contest_prizes (
    contest_id    TEXT    NOT NULL,
    place         BIGINT  NOT NULL,
    partner_id    BIGINT NOT NULL REFERENCES partners (id),
    contest_name  TEXT    NOT NULL,
    amount_minor  BIGINT ,
    reward        TEXT,
    period        TEXT    NOT NULL,
    booked_at     BIGINT  NOT NULL,
    PRIMARY KEY (contest_id, place)
);
CREATE INDEX contest_prizes_partner ON contest_prizes (partner_id, period);

-- Pictures Rally sends (leaderboard charts): outbox rows and replies refer to them by id.
CREATE TABLE images (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mime        TEXT    NOT NULL,
    bytes       BYTEA    NOT NULL,
    created_at  BIGINT  NOT NULL
);
