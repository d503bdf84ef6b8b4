-- Fund allocations (`/allocate`): one run per budget, one share per partner with its inputs.
CREATE TABLE allocation_runs (
    id            INTEGER PRIMARY KEY,
    budget_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    weights       TEXT    NOT NULL,
    created_by    INTEGER REFERENCES members (id),
    created_at    INTEGER NOT NULL
);

CREATE TABLE allocation_shares (
    run_id        INTEGER NOT NULL REFERENCES allocation_runs (id),
    partner_id    INTEGER NOT NULL REFERENCES partners (id),
    amount_minor  INTEGER NOT NULL,
    inputs        TEXT    NOT NULL,
    PRIMARY KEY (run_id, partner_id)
);
