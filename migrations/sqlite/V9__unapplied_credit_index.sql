-- Customers' unapplied credit (today, and at a date as today's less later movements) is
-- read from the few payments that still have some, not from every payment.
CREATE INDEX payments_unapplied ON payments(organization_id, customer_id, unapplied_minor)
    WHERE unapplied_minor > 0;
