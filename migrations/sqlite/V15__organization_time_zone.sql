-- The organization's IANA time zone: "today" for its books (default dates, overdue, the
-- reports' default as_of) is the date there. NULL: the server's own zone, as before.
ALTER TABLE organizations ADD COLUMN timezone TEXT;
