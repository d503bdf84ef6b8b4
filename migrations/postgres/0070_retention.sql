-- Retention (the hourly prune): answers to handled messages are forgotten by age in chunks,
-- each chunk a range of this index, so a delete never scans the table under the write lock.
-- The inbox needs no index: its primary key (platform, update_id) follows arrival order.
CREATE INDEX handled_messages_handled_at ON handled_messages (handled_at);
