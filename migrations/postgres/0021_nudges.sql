-- Nudges (weekly "¥3,000 more to Gold" messages to partners): who muted them with
-- `/mute nudges`, and when each was last nudged, so a nudge goes at most once a week.
CREATE TABLE nudge_state (
    member_id    BIGINT  PRIMARY KEY REFERENCES members (id),
    muted        BIGINT  NOT NULL DEFAULT 0,
    last_sent_at BIGINT
);
