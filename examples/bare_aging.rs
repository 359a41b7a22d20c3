//! The floor for the aging report: the same per-customer buckets in one plain SQL aggregate
//! over the same file, run by the same bundled SQLite as the server. `bench/bench.py` uses it.
//!
//! cargo run --release --example bare_aging -- PATH AS_OF
//!
//! The open amount is the invoice's total less its three settled sums (paid, credited,
//! written off), as the server's. Prints two figures in ms (best of 7): the per-customer
//! aggregate (the report's data, so
//! the floor it is compared with) and the organization-wide totals alone (a lower bound).
//! The per-customer form names its index as the server does (open invoices in customer
//! order, so the grouping streams): left to itself, the planner walks every invoice through
//! the customer index instead (~20× slower).

use std::time::Instant;

const PER_CUSTOMER: &str = "SELECT customer_id,
        SUM(CASE WHEN d <= 0 THEN a ELSE 0 END), SUM(CASE WHEN d BETWEEN 1 AND 30 THEN a ELSE 0 END),
        SUM(CASE WHEN d BETWEEN 31 AND 60 THEN a ELSE 0 END), SUM(CASE WHEN d BETWEEN 61 AND 90 THEN a ELSE 0 END),
        SUM(CASE WHEN d > 90 THEN a ELSE 0 END), COUNT(*)
    FROM (SELECT customer_id,
                 total_minor - amount_paid_minor - amount_credited_minor - amount_written_off_minor AS a,
                 CAST(julianday(?1) - julianday(due_date) AS INTEGER) AS d
          FROM invoices INDEXED BY invoices_open_by_customer
          WHERE organization_id = 1 AND status IN ('sent', 'partially_paid') AND issue_date <= ?1)
    GROUP BY customer_id";

const TOTALS: &str = "SELECT COUNT(*),
        SUM(CASE WHEN d <= 0 THEN a ELSE 0 END), SUM(CASE WHEN d BETWEEN 1 AND 30 THEN a ELSE 0 END),
        SUM(CASE WHEN d BETWEEN 31 AND 60 THEN a ELSE 0 END), SUM(CASE WHEN d BETWEEN 61 AND 90 THEN a ELSE 0 END),
        SUM(CASE WHEN d > 90 THEN a ELSE 0 END)
    FROM (SELECT julianday(?1) - julianday(due_date) AS d,
                 total_minor - amount_paid_minor - amount_credited_minor - amount_written_off_minor AS a
          FROM invoices WHERE organization_id = 1 AND status IN ('sent', 'partially_paid')
            AND issue_date <= ?1)";

fn best_ms(conn: &rusqlite::Connection, sql: &str, as_of: &str) -> rusqlite::Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let started = Instant::now();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([as_of], |row| row.get::<_, i64>(0))?;
        let count = rows.count();
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        assert!(count > 0);
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(as_of)) = (args.next(), args.next()) else {
        return Err("usage: bare_aging PATH AS_OF".into());
    };
    let conn = rusqlite::Connection::open(path)?;
    let per_customer = best_ms(&conn, PER_CUSTOMER, &as_of)?;
    let totals = best_ms(&conn, TOTALS, &as_of)?;
    println!("{per_customer:.3} {totals:.3}");
    Ok(())
}
