-- Group commit (issue 14): an update is marked processed in the transaction that handled it,
-- and answered once its replies were sent, which happens after that commit and apart from the
-- ingest. A restart answers again what was processed but not answered (the handler's
-- idempotency gives the same answer and changes nothing).
ALTER TABLE inbox ADD COLUMN answered_at BIGINT;
-- Before this, an update was marked processed only after its replies were sent.
UPDATE inbox SET answered_at = processed_at WHERE processed_at IS NOT NULL;
CREATE INDEX inbox_unanswered ON inbox (platform, update_id) WHERE answered_at IS NULL;
