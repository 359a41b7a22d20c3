-- The amount-weighted mean days to pay needs, for each date, the totals of the invoices
-- counted as paid from it and each total times its days from issue. The weighted sum can
-- pass a 64-bit integer, so it is kept as the text of an integer and added in Rust.
ALTER TABLE settled_daily ADD COLUMN paid_total_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settled_daily ADD COLUMN weighted_days TEXT NOT NULL DEFAULT '0';

-- Books written before this: each organization's amounts are filled in once, when the
-- book is next opened (`db::summaries::weigh_settled_if_due`), from its allocations.
CREATE TABLE settled_weights_due (organization_id INTEGER PRIMARY KEY);
INSERT INTO settled_weights_due SELECT DISTINCT organization_id FROM settled_daily;
