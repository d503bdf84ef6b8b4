-- Manager broadcasts (`/announce`, `/schedule`): who, what, to whom, when; each delivery is an
-- outbox row tagged with its broadcast, and the author gets a report when a send is delivered.
CREATE TABLE broadcasts (
    id             INTEGER PRIMARY KEY,
    author_id      BIGINT REFERENCES members (id),
    text           TEXT    NOT NULL,
    audience       TEXT    NOT NULL,
    schedule       TEXT,
    due_at         BIGINT,
    status         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    reported_rows  BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX broadcasts_scheduled ON broadcasts (id) WHERE status = 'scheduled';

ALTER TABLE outbox ADD COLUMN broadcast_id BIGINT;
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, status);
