-- The scheduler: when each job was first seen (missed due times count from then, not from the
-- epoch) and one row per due time, unique, so each due time runs once across instances. A run
-- in progress holds a lease; an instance that dies leaves it to expire.
CREATE TABLE job_state (
    job            TEXT    PRIMARY KEY,
    first_seen_at  BIGINT  NOT NULL
);

CREATE TABLE job_runs (
    job          TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    owner        TEXT,
    lease_until  BIGINT,
    started_at   BIGINT  NOT NULL,
    finished_at  BIGINT,
    detail       TEXT,
    PRIMARY KEY (job, due_at)
);

-- Group chats and channels bound as program chats (`/bindchat`), optionally for one region.
CREATE TABLE program_chats (
    platform   TEXT    NOT NULL,
    chat_id    TEXT    NOT NULL,
    region     TEXT,
    bound_by   BIGINT,
    bound_at   BIGINT  NOT NULL,
    PRIMARY KEY (platform, chat_id)
);
