-- Before dates were bounded (1900-01-01 to 9999-12-31), an invoice issued late in 9999 got a
-- due date derived into year 10000, written '+10000-01-30'. SQLite's date functions return
-- NULL for it and '+' sorts before every digit, so the aging report dropped its amount while
-- the overdue filter counted it. Such a due date becomes the last supported day: the latest
-- date the invoice can be due that every report reads alike. (Every date in range has ten
-- characters; nothing else does.)
UPDATE invoices SET due_date = '9999-12-31' WHERE length(due_date) <> 10;
