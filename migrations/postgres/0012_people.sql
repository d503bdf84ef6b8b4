-- One person may use a Telegram and a Discord account (SPEC: "one person may link a Telegram
-- and a Discord account"). Accounts joined with a personal `/link` code share a row here, which
-- says where the person last spoke to the bot and where they asked to be notified (`/notify`).
-- An account with no person is a person of its own.
CREATE TABLE people (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    last_platform    TEXT,
    notify_platform  TEXT,
    created_at       BIGINT  NOT NULL
);

ALTER TABLE members ADD COLUMN person_id BIGINT REFERENCES people (id);
CREATE INDEX members_person ON members (person_id) WHERE person_id IS NOT NULL;

-- A personal link code (from `/link` without a code) joins the redeeming account to the
-- person of the account that asked for it; an ordinary invite leaves this empty.
ALTER TABLE invites ADD COLUMN link_member BIGINT REFERENCES members (id);
