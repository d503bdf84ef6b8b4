-- Leader leases: a task that must run in exactly one instance at a time (Telegram long
-- polling) holds a row here and renews it; when its instance dies the lease expires and
-- another instance takes it.
CREATE TABLE leases (
    name   TEXT    PRIMARY KEY,
    owner  TEXT    NOT NULL,
    until  BIGINT  NOT NULL
);
