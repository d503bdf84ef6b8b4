-- Trainings (from `[[trainings]]`, synced at start-up, or `rally trainings add`), who enrolled,
-- checked in, rated and passed the quiz, and which reminders went out. Instants in unix ms.
CREATE TABLE trainings (
    id               TEXT    PRIMARY KEY,
    title            TEXT    NOT NULL,
    level            TEXT    NOT NULL,
    starts_at        BIGINT  NOT NULL,
    ends_at          BIGINT  NOT NULL,
    capacity         BIGINT  NOT NULL,
    -- Seats taken; changed only by conditional updates, so the last seat goes to one member.
    enrolled         BIGINT  NOT NULL DEFAULT 0,
    link             TEXT,
    place            TEXT,
    eligible_tier    TEXT,
    eligible_kind    TEXT,
    eligible_region  TEXT,
    certification    TEXT,
    -- Minutes before the start, comma-separated ("1440,60").
    reminders        TEXT    NOT NULL,
    -- The quiz as JSON, or NULL.
    quiz             TEXT,
    checkin_code     TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    -- Set once by the instance that ran the end-of-session work; the summary a day later.
    finished_at      BIGINT,
    summary_sent_at  BIGINT
);

CREATE TABLE training_enrollments (
    training_id    TEXT    NOT NULL REFERENCES trainings (id),
    member_id      BIGINT  NOT NULL REFERENCES members (id),
    -- enrolled | waitlisted | left
    status         TEXT    NOT NULL,
    enrolled_at    BIGINT  NOT NULL,
    checked_in_at  BIGINT,
    rating         BIGINT,
    comment        TEXT,
    rated_at       BIGINT,
    -- Answers so far ("1,0,2"), and the score once the last one is in.
    quiz_answers   TEXT,
    quiz_score     BIGINT,
    completed_at   BIGINT,
    PRIMARY KEY (training_id, member_id)
);
CREATE INDEX training_enrollments_member ON training_enrollments (member_id);

-- One row per reminder sent: (training, minutes before) once, across restarts and instances.
CREATE TABLE training_reminders (
    training_id     TEXT    NOT NULL REFERENCES trainings (id),
    offset_minutes  BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL,
    PRIMARY KEY (training_id, offset_minutes)
);
