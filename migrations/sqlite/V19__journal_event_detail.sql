-- What an event records beyond the entity's new answer: for an e-mailed document, its
-- recipients, subject and outcome. Null for every other event, and then left out of the
-- sealed object, so the hashes of the events before it do not change.
ALTER TABLE journal_events ADD COLUMN detail TEXT;
