-- Compact statement snapshots (issue 14): a locked statement stores its facts, and the plan
-- version it was computed with is stored once per period here, so the statement is computed
-- again, identically, by the pure engine whenever it is read — whatever the configuration
-- says later.
CREATE TABLE statement_plans (
    period        TEXT    NOT NULL,
    plan_id       TEXT    NOT NULL,
    plan_version  INTEGER NOT NULL,
    -- The plan version as JSON (`engine::plan::Plan`).
    definition    TEXT    NOT NULL,
    PRIMARY KEY (period, plan_id, plan_version)
);
