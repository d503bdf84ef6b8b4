-- Fund allocations (`/allocate`): one run per budget, one share per partner with its inputs.
CREATE TABLE allocation_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    budget_minor  BIGINT NOT NULL,
    currency      TEXT    NOT NULL,
    weights       TEXT    NOT NULL,
    created_by    BIGINT REFERENCES members (id),
    created_at    BIGINT NOT NULL
);

CREATE TABLE allocation_shares (
    run_id        BIGINT NOT NULL REFERENCES allocation_runs (id),
    partner_id    BIGINT NOT NULL REFERENCES partners (id),
    amount_minor  BIGINT NOT NULL,
    inputs        TEXT    NOT NULL,
    PRIMARY KEY (run_id, partner_id)
);
