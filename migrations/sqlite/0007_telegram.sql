-- Incoming platform updates, stored before they are confirmed to the platform and processed
-- from here, so a crash never loses one and a redelivery is recognised.
CREATE TABLE inbox (
    platform      TEXT    NOT NULL,
    update_id     BIGINT  NOT NULL,
    payload       TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    processed_at  BIGINT,
    PRIMARY KEY (platform, update_id)
);
CREATE INDEX inbox_unprocessed ON inbox (platform, update_id) WHERE processed_at IS NULL;

-- Evidence attached to a sale (a photo or file reference on the reporting platform).
ALTER TABLE sales ADD COLUMN evidence TEXT;

-- Deliveries a platform refused (e.g. a user who never started the bot or blocked it).
CREATE TABLE delivery_failures (
    platform    TEXT    NOT NULL,
    chat_id     TEXT    NOT NULL,
    error       TEXT    NOT NULL,
    at          BIGINT  NOT NULL
);
