//! Domain rules that queries must agree with, as SQL text built from the rule itself
//! (`domain::invoice`): a query cannot drift from the Rust definition, and the tests below
//! check each against it status by status.

use std::sync::LazyLock;

use crate::domain::invoice::InvoiceStatus;

/// `('sent', 'partially_paid')`: the statuses for which `keep` holds, as an SQL list.
fn statuses(keep: fn(InvoiceStatus) -> bool) -> String {
    let names: Vec<String> = InvoiceStatus::ALL
        .into_iter()
        .filter(|status| keep(*status))
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    format!("({})", names.join(", "))
}

static OPEN: LazyLock<String> = LazyLock::new(|| statuses(InvoiceStatus::accepts_payments));
static ISSUED: LazyLock<String> = LazyLock::new(|| statuses(InvoiceStatus::is_issued));

/// [`InvoiceStatus::accepts_payments`]: the invoice (table alias `i`, or `""` for none) is
/// open. The text matches the partial index `invoices_open_by_customer` (migration V3),
/// so queries that name the index can use it.
pub(crate) fn is_open(i: &str) -> String {
    format!("{i}status IN {}", OPEN.as_str())
}

/// [`InvoiceStatus::is_issued`]: the invoice counts in reports (neither draft nor void).
pub(crate) fn is_issued(i: &str) -> String {
    format!("{i}status IN {}", ISSUED.as_str())
}

/// [`crate::domain::invoice::balance_due`] of an issued invoice: its total less what
/// settled it ([`crate::domain::invoice::Settled`]), as an SQL expression.
pub(crate) fn open_amount(i: &str) -> String {
    format!(
        "({i}total_minor - {i}amount_paid_minor - {i}amount_credited_minor - {i}amount_written_off_minor)"
    )
}

/// [`crate::domain::invoice::days_overdue`] > 0: open, with a balance, and due before
/// `today` (an SQL expression: a parameter or a literal).
pub(crate) fn is_overdue(i: &str, today: &str) -> String {
    format!(
        "{} AND {} > 0 AND {i}due_date < {today}",
        is_open(i),
        open_amount(i)
    )
}

#[cfg(test)]
mod tests {
    use crate::db::conn::Conn;
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::invoice::{balance_due, days_overdue};
    use crate::domain::money::Money;

    fn holds(conn: &Conn, condition: &str, row: (&str, i64, i64, &str)) -> bool {
        // Credited and written off take part as paid does: a third of the sum each.
        conn.query_row(
            &format!(
                "SELECT {condition} FROM (SELECT ?1 AS status, ?2 AS total_minor, \
                 ?3 - 2 * (?3 / 3) AS amount_paid_minor, ?3 / 3 AS amount_credited_minor, \
                 ?3 / 3 AS amount_written_off_minor, ?4 AS due_date) i"
            ),
            crate::db::conn::params![row.0, row.1, row.2, row.3],
            |r| r.get::<_, bool>(0),
        )
        .unwrap()
    }

    #[test]
    fn each_sql_rule_agrees_with_its_domain_rule_for_every_status() {
        let memory = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::sqlite(&memory);
        let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let overdue_sql = is_overdue("i.", "'2024-03-01'");
        for status in InvoiceStatus::ALL {
            for (paid, due) in [
                (0, "2024-02-01"),
                (500, "2024-02-01"),
                (1000, "2024-02-01"),
                (0, "2024-03-01"),
            ] {
                let row = (status.as_str(), 1000, paid, due);
                assert_eq!(holds(&conn, &is_open("i."), row), status.accepts_payments());
                assert_eq!(holds(&conn, &is_issued("i."), row), status.is_issued());
                let due_date: NaiveDate = due.parse().unwrap();
                let balance = balance_due(status, Money::from_minor(1000), Money::from_minor(paid));
                let overdue = days_overdue(status, due_date, balance, today) > 0;
                assert_eq!(
                    holds(&conn, &overdue_sql, row),
                    overdue,
                    "{status:?} {paid} {due}"
                );
            }
        }
    }

    #[test]
    fn the_open_rule_is_the_partial_index_text() {
        assert_eq!(is_open(""), "status IN ('sent', 'partially_paid')");
    }
}
