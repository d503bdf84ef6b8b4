-- Rankings are served from an in-process index kept in step with period_totals: each change
-- carries a stamp the index syncs from (SQLite: a per-period sequence; PostgreSQL: the writing
-- transaction id, read against the snapshot's xmin).
ALTER TABLE period_totals ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX period_totals_changes ON period_totals (period, change_seq);
