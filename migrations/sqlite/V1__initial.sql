-- Money columns end in _minor: integer cents, so SQL sums are exact.
-- Quantities, unit prices and tax rates keep their exact decimal text.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    scope           TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX api_keys_org ON api_keys(organization_id);

-- Per-organization counters behind generated codes (CUST-00001, INV-2024-00001).
CREATE TABLE sequences (
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    next_value      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, name)
) WITHOUT ROWID;

CREATE TABLE customers (
    id                  INTEGER PRIMARY KEY,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    customer_code       TEXT NOT NULL,
    name                TEXT NOT NULL,
    email               TEXT,
    phone               TEXT,
    billing_address     TEXT,
    payment_terms_days  INTEGER NOT NULL,
    credit_limit_minor  INTEGER,
    notes               TEXT,
    is_active           INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (organization_id, customer_code)
);
CREATE INDEX customers_org_name ON customers(organization_id, name);

CREATE TABLE invoices (
    id                  INTEGER PRIMARY KEY,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    invoice_number      TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')),
    issue_date          TEXT NOT NULL,
    due_date            TEXT NOT NULL,
    notes               TEXT,
    subtotal_minor      INTEGER NOT NULL,
    tax_total_minor     INTEGER NOT NULL,
    total_minor         INTEGER NOT NULL,
    -- Summary of payment_applications, kept in the same transaction as every application.
    amount_paid_minor   INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid_minor >= 0 AND amount_paid_minor <= total_minor),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (organization_id, invoice_number)
);
CREATE INDEX invoices_org_customer ON invoices(organization_id, customer_id);
CREATE INDEX invoices_org_status_due ON invoices(organization_id, status, due_date);
CREATE INDEX invoices_org_issue ON invoices(organization_id, issue_date);

CREATE TABLE invoice_items (
    id                  INTEGER PRIMARY KEY,
    invoice_id          INTEGER NOT NULL REFERENCES invoices(id),
    position            INTEGER NOT NULL,
    description         TEXT NOT NULL,
    quantity            TEXT NOT NULL,
    unit_price          TEXT NOT NULL,
    tax_rate            TEXT NOT NULL,
    line_subtotal_minor INTEGER NOT NULL,
    line_tax_minor      INTEGER NOT NULL,
    line_total_minor    INTEGER NOT NULL,
    UNIQUE (invoice_id, position)
);

CREATE TABLE payments (
    id                  INTEGER PRIMARY KEY,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    customer_id         INTEGER NOT NULL REFERENCES customers(id),
    -- The invoice the payment was recorded against; how much went where lives in
    -- payment_applications, so split payments and unapplied credit arrive as additions.
    invoice_id          INTEGER REFERENCES invoices(id),
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    payment_method      TEXT NOT NULL,
    payment_date        TEXT NOT NULL,
    reference_number    TEXT,
    notes               TEXT,
    created_at          TEXT NOT NULL
);
CREATE INDEX payments_org_date ON payments(organization_id, payment_date);
CREATE INDEX payments_org_customer ON payments(organization_id, customer_id);
CREATE INDEX payments_invoice ON payments(invoice_id);

CREATE TABLE payment_applications (
    id                  INTEGER PRIMARY KEY,
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    payment_id          INTEGER NOT NULL REFERENCES payments(id),
    invoice_id          INTEGER NOT NULL REFERENCES invoices(id),
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    applied_date        TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX payment_applications_invoice ON payment_applications(invoice_id, applied_date);
CREATE INDEX payment_applications_org_date ON payment_applications(organization_id, applied_date);

-- A replayed POST with the same Idempotency-Key returns the stored answer.
CREATE TABLE idempotency_keys (
    organization_id     INTEGER NOT NULL REFERENCES organizations(id),
    idempotency_key     TEXT NOT NULL,
    request_method      TEXT NOT NULL,
    request_path        TEXT NOT NULL,
    request_hash        TEXT NOT NULL,
    response_status     INTEGER NOT NULL,
    response_location   TEXT,
    response_body       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    PRIMARY KEY (organization_id, idempotency_key)
) WITHOUT ROWID;
