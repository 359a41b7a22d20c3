-- The audit journal: one event per change, appended in the change's own transaction.
-- `id` counts each organization's events from 1 with no gaps; `hash` chains each event to
-- the one before it (see `domain::journal`), so an edit, a gap or a swap shows.
CREATE TABLE journal_events (
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    id              INTEGER NOT NULL CHECK (id >= 1),
    occurred_at     TEXT NOT NULL,
    type            TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       INTEGER NOT NULL,
    -- JSON: {"type": "api_key", "key_id": .., "key_prefix": ..}, {"type": "cli"} or {"type": "system"}.
    actor           TEXT NOT NULL,
    request_id      TEXT,
    idempotency_key TEXT,
    -- JSON: the entity's answer after the change (null once deleted).
    data            TEXT NOT NULL,
    -- JSON: each changed field's before and after; null for anything but an update.
    changes         TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (organization_id, id)
);

-- One entity's events (history, the latest event of each entity) in id order.
CREATE INDEX journal_events_entity
    ON journal_events(organization_id, entity_type, entity_id, id);

CREATE TRIGGER journal_events_never_changed BEFORE UPDATE ON journal_events BEGIN
    SELECT RAISE(ABORT, 'journal events are never changed');
END;
CREATE TRIGGER journal_events_never_deleted BEFORE DELETE ON journal_events BEGIN
    SELECT RAISE(ABORT, 'journal events are never deleted');
END;

-- Organizations whose rows predate the journal. The first start of a binary that knows the
-- journal gives each of their rows one `<entity>.imported` event (actor `system`), so that
-- `verify` can vouch for every row from then on; the organization then leaves this table.
CREATE TABLE journal_imports_due (
    organization_id INTEGER PRIMARY KEY REFERENCES organizations(id)
);
INSERT INTO journal_imports_due (organization_id) SELECT id FROM organizations;
