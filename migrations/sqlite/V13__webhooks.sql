-- Signed webhooks. Deliveries follow the journal: each endpoint keeps a cursor (the last
-- event it has been sent or skipped) and the time its pending event is next tried, so the
-- schedule survives a restart or a kill -9; every attempt is a row of its own.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    url             TEXT NOT NULL,
    description     TEXT,
    -- JSON array of event types, or ["*"].
    event_types     TEXT NOT NULL,
    -- The signing secret. It must be kept to sign (unlike an API key, which is only
    -- checked); it is answered once, at creation, and never logged or journaled.
    secret          TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    disabled_reason TEXT,
    -- Events up to this id have been delivered or did not match.
    cursor          INTEGER NOT NULL DEFAULT 0,
    -- Unix seconds at which the pending event is tried next; NULL: as soon as there is one.
    next_attempt_at INTEGER,
    -- Unix seconds of the first failure of the current run of failures.
    failing_since   INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(organization_id);

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL CHECK (attempt >= 1),
    attempted_at TEXT NOT NULL,
    -- The receiver's status code, or NULL when no answer came (then `error` says why).
    status_code  INTEGER,
    error        TEXT,
    delivered    INTEGER NOT NULL CHECK (delivered IN (0, 1)),
    -- Unix seconds of the next try after a failure.
    next_attempt_at INTEGER
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
