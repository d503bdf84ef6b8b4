-- Community (issue 11): an outbox row may edit a message Rally sent before instead of sending a
-- new one (a story's other posts brought up to the current reaction counts). NULL: a new message.
ALTER TABLE outbox ADD COLUMN edit_message_id TEXT;
