//! The whole book's open total at one date or several, counted from the records alone:
//! the issued invoices' totals, less what was applied and written off by each date. The
//! aging's checks compare it with the report's own sum; the dashboard's series and the
//! KPIs take it where they need a total and no customer.

use chrono::NaiveDate;

use super::codec::date_text;
use super::conn::{value::ToSql, Conn};
use super::report_scope::ReportScope;
use crate::domain::money::Money;
use crate::error::AppError;

/// The most dates one statement sums: the dashboard asks for 12 month ends.
const MOST_DATES: usize = 24;

/// The open total of the scope's whole book at each of `dates`, in their order: one pass
/// over each index for all of them (12 month ends cost about one).
pub(crate) fn open_totals_at(
    conn: &Conn,
    scope: &ReportScope,
    dates: &[NaiveDate],
) -> Result<Vec<Money>, AppError> {
    let Some(last) = dates.iter().max() else {
        return Ok(Vec::new());
    };
    if dates.len() > MOST_DATES {
        return Err(AppError::Internal(format!(
            "open totals asked at {} dates, more than {MOST_DATES}",
            dates.len()
        )));
    }
    let sql = open_totals_sql(|column| scope.customers(column), dates.len());
    let mut stmt = conn.prepare_cached(&sql)?;
    let texts: Vec<String> = dates.iter().map(|date| date_text(*date)).collect();
    let mut values: Vec<&dyn ToSql> = vec![&scope.org];
    let last = date_text(*last);
    values.push(&last);
    values.extend(texts.iter().map(|text| text as &dyn ToSql));
    scope.bind(&mut stmt, &values)?;
    let mut totals = vec![0_i64; dates.len()];
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let sign: i64 = row.get(0)?;
        for (index, total) in totals.iter_mut().enumerate() {
            let sum: i64 = row.get(index + 1)?;
            *total = total.saturating_add(sign.saturating_mul(sum));
        }
    }
    Ok(totals.into_iter().map(Money::from_minor).collect())
}

/// The statement of [`open_totals_at`] for `count` dates: `?1` the organization, `?2` the
/// last date, `?3`… each date, and the customers of the report's currency (`in_currency`
/// of a customer column). A row each of what adds and what takes away, with its sign, and
/// a sum for each date.
///
/// The sum per invoice, regrouped: an allocation or write-off is never dated before its
/// invoice's issue date (`domain::payment`, `domain::write_off`), nor reversed before it was
/// made (the tables' CHECK), and belongs to its invoice's customer (the foreign key). Were a
/// movement ever dated before its invoice, this sum would take it and the aging would not:
/// the aging's check would then fail, in plain view. Per invoice, the allocations were a
/// million random probes at 1M invoices (BENCHMARKS.md, issue 16).
pub(super) fn open_totals_sql(in_currency: impl Fn(&str) -> String, count: usize) -> String {
    let sums = |date: &str, amount: &str, live: bool| {
        (0..count)
            .map(|index| {
                let on = format!("?{}", index + 3);
                let stood = if live {
                    format!(" AND (m.reversed_date IS NULL OR m.reversed_date > {on})")
                } else {
                    String::new()
                };
                format!("COALESCE(SUM(CASE WHEN {date} <= {on}{stood} THEN {amount} END), 0)")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let in_movement = in_currency("m.customer_id");
    let moved = |table: &str, index: &str, date: &str, sign: i8| {
        format!(
            "SELECT {sign}, {} FROM {table} m INDEXED BY {index}
             WHERE m.organization_id = ?1 AND m.{date} <= ?2 AND {in_movement}",
            sums(&format!("m.{date}"), "m.amount_minor", false)
        )
    };
    // What stood against a draft or void invoice (which count nowhere) is given back, read
    // through those few invoices rather than testing every movement against them.
    let closed = |table: &str, date: &str| {
        format!(
            "SELECT 1, {} FROM invoices c INDEXED BY invoices_org_status
             JOIN {table} m INDEXED BY {table}_invoice
               ON m.organization_id = c.organization_id AND m.invoice_id = c.id
             WHERE c.organization_id = ?1 AND c.status IN ('draft', 'void')
               AND m.organization_id = ?1 AND m.{date} <= ?2 AND {in_movement}",
            sums(&format!("m.{date}"), "m.amount_minor", true)
        )
    };
    [
        format!(
            "SELECT 1, {} FROM invoices i INDEXED BY invoices_org_status_due
             WHERE i.organization_id = ?1 AND i.status NOT IN ('draft', 'void')
               AND i.issue_date <= ?2 AND {}",
            sums("i.issue_date", "i.total_minor", false),
            in_currency("i.customer_id")
        ),
        moved("allocations", "allocations_org_date", "applied_date", -1),
        moved(
            "allocations",
            "allocations_org_reversed",
            "reversed_date",
            1,
        ),
        closed("allocations", "applied_date"),
        moved("write_offs", "write_offs_org_date", "write_off_date", -1),
        moved("write_offs", "write_offs_org_reversed", "reversed_date", 1),
        closed("write_offs", "write_off_date"),
    ]
    .join("\n UNION ALL\n")
}
