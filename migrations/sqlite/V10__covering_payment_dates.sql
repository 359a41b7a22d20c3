-- Collections in a window and credit at a date sum payments by date; with the amount and
-- customer in the index the sums read the index alone instead of a row per payment
-- (about 25,000 row reads for 30 days of a 1M-invoice book).
DROP INDEX payments_org_date;
CREATE INDEX payments_org_date ON payments(organization_id, payment_date, amount_minor, customer_id);
