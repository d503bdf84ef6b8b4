-- Community (issue 11): success stories and their reactions. Instants in unix ms.
CREATE TABLE stories (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   BIGINT  NOT NULL REFERENCES partners (id),
    member_id    BIGINT  NOT NULL REFERENCES members (id),
    text         TEXT    NOT NULL,
    -- A platform file reference (a Telegram file id, a Discord attachment URL) and its platform.
    image        TEXT,
    platform     TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    featured_at  BIGINT,
    -- Hidden by a manager (moderation): out of every list and job, kept for the audit.
    hidden_at    BIGINT,
    hidden_by    BIGINT  REFERENCES members (id)
);
CREATE INDEX stories_created ON stories (created_at);

-- One reaction of each kind per member and story; a second press deletes it.
CREATE TABLE story_reactions (
    story_id     BIGINT  NOT NULL REFERENCES stories (id),
    member_id    BIGINT  NOT NULL REFERENCES members (id),
    kind         TEXT    NOT NULL,
    reacted_at   BIGINT  NOT NULL,
    PRIMARY KEY (story_id, member_id, kind)
);
