-- Community (issue 11): the platform messages that carry a story (its posts, as the outbox sent
-- them), so the platform's own reactions on them count for the story.
CREATE TABLE story_posts (
    platform     TEXT    NOT NULL,
    chat_id      TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    story_id     BIGINT  NOT NULL REFERENCES stories (id),
    PRIMARY KEY (platform, chat_id, message_id)
);
