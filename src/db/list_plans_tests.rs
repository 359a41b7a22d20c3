//! Every list reads its rows in id order straight from an index: no temporary B-tree to
//! sort them. With `temp_store = MEMORY` such a sort holds the whole filtered list in the
//! server's memory, so a CSV export of a 1M-invoice book peaked at 199 MiB (and a page of
//! 50 sorted every row of the organization to find its 50).

use super::conn::{value::Value, Conn};
use super::paging::ListQuery;
use super::sql::Filter;
use super::{bulk, Db, Synchronous};
use chrono::NaiveDate;

/// The query plan of `query` under `filter`, one step a line.
fn plan(conn: &Conn, (query, filter): &(ListQuery<'static>, Filter)) -> Vec<String> {
    let sql = format!("EXPLAIN QUERY PLAN {}", query.rows_sql(filter));
    let mut stmt = conn.prepare(&sql).expect("the list statement prepares");
    let mut values = query.row_values(filter);
    values.extend([Value::Integer(i64::MAX), Value::Integer(0)]);
    let mut rows = stmt.query(&values).expect("it explains");
    let mut steps = Vec::new();
    while let Some(row) = rows.next().expect("a plan step") {
        steps.push(row.get::<_, String>(3).expect("its text"));
    }
    steps
}

const TODAY: Option<NaiveDate> = NaiveDate::from_ymd_opt(2026, 12, 3);

/// A seeded 3,000-invoice book (analyzed, as `seed-demo` leaves it) in `dir`.
pub(super) fn seeded_book(dir: &tempfile::TempDir) -> Db {
    let path = dir.path().join("ar.db");
    let request = bulk::SeedRequest {
        organization: "default",
        customers: 50,
        invoices: 3_000,
        seed: 7,
        as_of: TODAY.expect("a date"),
    };
    bulk::seed_book(&path, &request, &mut |_, _| {}).expect("the book seeds");
    Db::open(&path, Synchronous::Normal).expect("the book opens")
}

#[test]
fn every_unfiltered_list_reads_in_id_order_without_a_sort() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = seeded_book(&dir);
    let today = TODAY.expect("a date");
    let plans = db
        .read_blocking(|conn| {
            Ok([
                (
                    "invoices",
                    plan(
                        conn,
                        &super::invoices::listing(1, &Default::default(), today),
                    ),
                ),
                (
                    "payments",
                    plan(conn, &super::payments::listing(1, &Default::default())),
                ),
                (
                    "credit notes",
                    plan(conn, &super::credit_notes::listing(1, &Default::default())),
                ),
                (
                    "customers",
                    plan(
                        conn,
                        &super::customers::listing(1, &Default::default(), "2026-12-03"),
                    ),
                ),
            ])
        })
        .expect("the plans read");
    for (list, steps) in plans {
        assert!(
            !steps.iter().any(|step| step.contains("TEMP B-TREE")),
            "{list}: {steps:?}"
        );
    }
}

/// A filter that narrows the rows to a status, or to dates from a day on, reads its range
/// through its own index, never a walk of all the organization's rows in id order (which,
/// on a 100k book with ids in date order, took a first page of written-off invoices from
/// 1 ms to 63 ms, and grows with the book), and sorts nothing: a status's range is in id
/// order, and a date window starts the id-order walk at the window's first id.
#[test]
fn a_narrowing_filter_reads_its_range_not_the_whole_organization() {
    use super::credit_notes::CreditNoteFilter;
    use super::invoices::{InvoiceFilter, StatusFilter};
    use super::payments::PaymentFilter;
    use crate::domain::invoice::InvoiceStatus;
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = seeded_book(&dir);
    let (today, month_ago) = (TODAY.expect("a date"), NaiveDate::from_ymd_opt(2026, 11, 3));
    let status = |status| InvoiceFilter {
        status: Some(StatusFilter::Is(status)),
        ..Default::default()
    };
    let from = |issue_date_from| InvoiceFilter {
        issue_date_from,
        ..Default::default()
    };
    let (paid, written_off) = (InvoiceStatus::Paid, InvoiceStatus::WrittenOff);
    let payments = PaymentFilter {
        date_from: month_ago,
        ..Default::default()
    };
    let credit_notes = CreditNoteFilter {
        date_from: month_ago,
        ..Default::default()
    };
    let cases = db
        .read_blocking(|conn| {
            let invoices = |filter| plan(conn, &super::invoices::listing(1, &filter, today));
            Ok([
                (
                    invoices(status(paid)),
                    "INDEX invoices_org_status (organization_id=? AND status=?)",
                ),
                (
                    invoices(status(written_off)),
                    "INDEX invoices_org_status (organization_id=? AND status=?)",
                ),
                (
                    invoices(from(month_ago)),
                    "COVERING INDEX invoices_org_issue (organization_id=? AND issue_date>?)",
                ),
                (
                    plan(conn, &super::payments::listing(1, &payments)),
                    "COVERING INDEX payments_org_date (organization_id=? AND payment_date>?)",
                ),
                (
                    plan(conn, &super::credit_notes::listing(1, &credit_notes)),
                    "COVERING INDEX credit_notes_org_date (organization_id=? AND issue_date>?)",
                ),
            ])
        })
        .expect("the plans read");
    for (steps, range) in cases {
        assert!(
            steps.iter().any(|step| step.ends_with(range)),
            "{range}: {steps:?}"
        );
        let walks = |step: &String| step.ends_with("_org_id (organization_id=?)");
        let sorts = |step: &String| step.contains("TEMP B-TREE");
        assert!(
            !steps.iter().any(|step| walks(step) || sorts(step)),
            "{steps:?}"
        );
    }
}
