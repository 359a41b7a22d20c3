//! The whole book's recount (sums over date ranges) against the same total counted one
//! invoice at a time, on a seeded book made harder than any the API could make: customers
//! in a second currency, reversals (some the same day), void and draft invoices holding
//! allocations and write-offs.

use chrono::{Days, NaiveDate};

use super::aging_detail::{one_customers_recount, recount_open};
use super::codec::date_text;
use super::open_totals::open_totals_at;
use super::report_scope::ReportScope;
use crate::domain::currency::Currency;
use crate::domain::money::Money;

/// The per-invoice recount over every customer (`?3` unbound), with the scope's customer
/// condition on the invoice.
fn per_invoice(scope: &ReportScope) -> String {
    one_customers_recount(&scope.customers("i.customer_id"))
        .replace("i.customer_id = ?3", "CAST(?3 AS BIGINT) IS NULL")
}

#[test]
fn the_whole_books_recount_equals_the_sum_invoice_by_invoice() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = super::list_plans_tests::seeded_book(&dir);
    let raw = rusqlite::Connection::open(dir.path().join("ar.db")).expect("the file opens");
    // Foreign keys off: a draft holding allocations is past what the API allows, and
    // the sum must agree even then.
    raw.execute_batch(
        "PRAGMA foreign_keys = OFF;
         UPDATE customers SET currency = 'EUR' WHERE id % 3 = 0;
         UPDATE allocations SET reversed_date = date(applied_date, '+40 days') WHERE id % 7 = 0;
         UPDATE allocations SET reversed_date = applied_date
             WHERE id % 11 = 0 AND reversed_date IS NULL;
         UPDATE write_offs SET reversed_date = date(write_off_date, '+20 days')
             WHERE id % 2 = 0 AND reversed_date IS NULL;
         UPDATE invoices SET status = 'void' WHERE id % 10 = 0;
         UPDATE invoices SET status = 'draft' WHERE id % 13 = 0;",
    )
    .expect("the book is reshaped");
    let held: i64 = raw
        .query_row(
            "SELECT (SELECT COUNT(*) FROM allocations a JOIN invoices i ON i.id = a.invoice_id
                     WHERE i.status IN ('void', 'draft'))
                  * (SELECT COUNT(*) FROM write_offs w JOIN invoices i ON i.id = w.invoice_id
                     WHERE i.status IN ('void', 'draft'))",
            [],
            |row| row.get(0),
        )
        .expect("a count");
    assert!(held > 0, "closed invoices hold allocations and write-offs");
    let start = NaiveDate::from_ymd_opt(2023, 6, 1).expect("a date");
    let dates: Vec<NaiveDate> = (0..430)
        .filter_map(|step| start.checked_add_days(Days::new(step * 3)))
        .collect();
    for currency in ["USD", "EUR"] {
        let compared = db
            .read_blocking(|conn| {
                let asked = Some(Currency::stored(currency));
                let scope = ReportScope::of(conn, 1, asked, None)?.0;
                let sql = per_invoice(&scope);
                let mut counted_at = Vec::new();
                for &date in &dates {
                    let summed = recount_open(conn, &scope, date, None)?.minor();
                    let mut stmt = conn.prepare_cached(&sql)?;
                    let everyone: Option<i64> = None;
                    scope.bind(&mut stmt, &[&date_text(date), &scope.org, &everyone])?;
                    let mut rows = stmt.raw_query();
                    let counted: i64 = match rows.next()? {
                        Some(row) => row.get(0)?,
                        None => 0,
                    };
                    assert_eq!(summed, counted, "{currency} at {date}");
                    counted_at.push(Money::from_minor(counted));
                }
                // Twelve dates in one statement, as the dashboard's series asks.
                for (chunk, counted) in dates.chunks(12).zip(counted_at.chunks(12)) {
                    let at_once = open_totals_at(conn, &scope, chunk)?;
                    assert_eq!(at_once, counted, "{currency} from {:?}", chunk.first());
                }
                Ok(counted_at
                    .iter()
                    .filter(|total| **total != Money::ZERO)
                    .count())
            })
            .expect("the recounts run");
        assert!(
            compared > 300,
            "{currency}: only {compared} dates owed anything"
        );
    }
}
