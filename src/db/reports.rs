//! Aging and dashboard figures, computed from dated events so any `as_of` is exact.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Days, NaiveDate};

use super::balances::unapplied_credit_at;
use super::codec::date_text;
use super::conn::{params, Conn};
use super::report_scope::ReportScope;
use super::rules;
use crate::domain::aging::{AgingTotals, Bucket, BUCKET_LAST_DAYS};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::money::Money;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct CustomerAging {
    pub customer_id: i64,
    pub customer_code: String,
    pub name: String,
    pub totals: AgingTotals,
    pub invoice_count: i64,
    pub overdue_invoice_count: i64,
    /// The customer's unapplied credit at `as_of`.
    pub unapplied_credit: Money,
}

impl CustomerAging {
    /// Customer `id`, with nothing open and no credit yet.
    pub(crate) fn nothing_open(id: i64, (customer_code, name): (String, String)) -> Self {
        CustomerAging {
            customer_id: id,
            customer_code,
            name,
            totals: AgingTotals::default(),
            invoice_count: 0,
            overdue_invoice_count: 0,
            unapplied_credit: Money::ZERO,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Aging {
    pub as_of: NaiveDate,
    pub totals: AgingTotals,
    pub customers: Vec<CustomerAging>,
    /// Every listed customer's unapplied credit at `as_of`.
    pub unapplied_credit: Money,
}

impl Aging {
    pub(crate) fn invoice_count(&self) -> i64 {
        self.customers.iter().map(|c| c.invoice_count).sum()
    }

    pub(crate) fn overdue_invoice_count(&self) -> i64 {
        self.customers.iter().map(|c| c.overdue_invoice_count).sum()
    }
}

/// An invoice counts when it was issued on or before `as_of` and is neither draft nor void;
/// its open amount is its total less the payments applied on or before `as_of`.
pub(crate) fn aging(
    conn: &Conn,
    scope: &ReportScope,
    as_of: NaiveDate,
    customer_id: Option<i64>,
) -> Result<Aging, AppError> {
    let org = scope.org;
    let as_of_text = date_text(as_of);
    // Open at as_of = (open today) + allocations and write-offs dated after as_of − their
    // reversals dated after it. The first term is a
    // summary column over the invoices open today, read in customer order from a covering
    // partial index so the grouping streams without a sort (migration V3); the second
    // touches only payments later than as_of, few for any recent date. Both are exact for
    // every date. Buckets are summed in SQL from the bounds in `domain::aging`. The indexes
    // are named because the planner, left alone, picks ones that cost a sort or a walk.
    let later_payments = moved_after(conn, org, &as_of_text)?;
    let in_currency = scope.customers("i.customer_id");
    let sql = aging_sql(later_payments, &in_currency, customer_id.is_some());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut totals = AgingTotals::default();
    let mut customers = Vec::new();
    let [d0, d1, d2, d3] = BUCKET_LAST_DAYS.map(|last| days_before(as_of, last.unsigned_abs()));
    scope.bind(
        &mut stmt,
        &[&as_of_text, &org, &customer_id, &d0, &d1, &d2, &d3],
    )?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let mut customer_totals = AgingTotals::default();
        for (index, bucket) in Bucket::ALL.into_iter().enumerate() {
            let amount = Money::from_minor(row.get(1 + index)?);
            customer_totals.add(bucket, amount);
            totals.add(bucket, amount);
        }
        customers.push(CustomerAging {
            customer_id: row.get(0)?,
            totals: customer_totals,
            invoice_count: row.get(6)?,
            overdue_invoice_count: row.get(7)?,
            customer_code: row.get(8)?,
            name: row.get(9)?,
            unapplied_credit: Money::ZERO,
        });
    }
    finish_aging(conn, scope, (as_of, customer_id), (totals, customers))
}

/// The aging from its customers' open amounts: each customer's unapplied credit (and the
/// customers with credit but nothing open) added, the largest total first.
pub(super) fn finish_aging(
    conn: &Conn,
    scope: &ReportScope,
    (as_of, customer_id): (NaiveDate, Option<i64>),
    (totals, mut customers): (AgingTotals, Vec<CustomerAging>),
) -> Result<Aging, AppError> {
    let unapplied_credit = add_credit(conn, scope, (as_of, customer_id), &mut customers)?;
    // Unstable, so in place: a stable sort takes a scratch copy of every customer (5.7 MB
    // of the peak for 44,562 customers), and ids are unique, so the order is the same.
    customers.sort_unstable_by(|a, b| {
        b.totals
            .total
            .cmp(&a.totals.total)
            .then(a.customer_id.cmp(&b.customer_id))
    });
    Ok(Aging {
        as_of,
        totals,
        customers,
        unapplied_credit,
    })
}

/// The aging's statement: a row a customer with an open amount at `?1`, its buckets
/// bounded by `?4`… (see [`open_at_as_of`] for the rest of its parameters).
pub(super) fn aging_sql(later_payments: bool, in_currency: &str, one: bool) -> String {
    let open = open_at_as_of(later_payments, in_currency, one);
    format!(
        "WITH {open},
         grouped AS (
             SELECT customer_id, {buckets}, COUNT(*) AS n,
                    SUM(CASE WHEN due_date < ?4 THEN 1 ELSE 0 END) AS overdue_n
             FROM open WHERE amount > 0 GROUP BY customer_id
         )
         SELECT g.*, c.customer_code, c.name FROM grouped g
         JOIN customers c ON c.organization_id = ?2 AND c.id = g.customer_id",
        buckets = bucket_sums("due_date", "amount"),
    )
}

/// Whether anything moved an invoice's open amount after `as_of` (text): then the open
/// amounts at `as_of` need the later movements taken back.
pub(super) fn moved_after(conn: &Conn, org: i64, as_of: &str) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM allocations INDEXED BY allocations_org_date
                            WHERE organization_id = ?1 AND applied_date > ?2)
                 OR EXISTS (SELECT 1 FROM allocations INDEXED BY allocations_org_reversed
                            WHERE organization_id = ?1 AND reversed_date > ?2)
                 OR EXISTS (SELECT 1 FROM write_offs INDEXED BY write_offs_org_date
                            WHERE organization_id = ?1 AND write_off_date > ?2)
                 OR EXISTS (SELECT 1 FROM write_offs INDEXED BY write_offs_org_reversed
                            WHERE organization_id = ?1 AND reversed_date > ?2)",
        )?
        .query_row(params![org, as_of], |row| row.get(0))?)
}

/// Sets each customer's unapplied credit at `as_of`, adding the customers that have
/// credit but nothing open; returns the total.
fn add_credit(
    conn: &Conn,
    scope: &ReportScope,
    (as_of, customer_id): (NaiveDate, Option<i64>),
    customers: &mut Vec<CustomerAging>,
) -> Result<Money, AppError> {
    let org = scope.org;
    let mut credit = unapplied_credit_at(conn, scope, as_of, customer_id)?;
    let total = Money::from_minor(credit.values().map(|m| m.minor()).sum());
    for customer in customers.iter_mut() {
        customer.unapplied_credit = credit.remove(&customer.customer_id).unwrap_or(Money::ZERO);
    }
    let mut named = conn.prepare_cached(
        "SELECT customer_code, name FROM customers WHERE id = ?1 AND organization_id = ?2",
    )?;
    for (id, amount) in credit {
        let (customer_code, name) =
            named.query_row(params![id, org], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let mut customer = CustomerAging::nothing_open(id, (customer_code, name));
        customer.unapplied_credit = amount;
        customers.push(customer);
    }
    Ok(total)
}

/// One `SUM(CASE …)` per bucket, in `Bucket::ALL` order. A bucket's days
/// past due (`as_of − due_date`) are compared as due dates: `days <= L` is
/// `due_date >= as_of − L`, with `as_of − L` bound as `?4`… for each of
/// [`BUCKET_LAST_DAYS`] in turn. Dates are `YYYY-MM-DD` text, so text order is date order,
/// and no row parses a date (`julianday` per row cost a third of the report).
fn bucket_sums(due: &str, amount: &str) -> String {
    let bound = |last: i64| {
        let index = BUCKET_LAST_DAYS
            .iter()
            .position(|l| *l == last)
            .unwrap_or(0);
        format!("?{}", 4 + index)
    };
    Bucket::ALL
        .iter()
        .map(|bucket| match bucket.days() {
            (None, Some(last)) => {
                format!(
                    "SUM(CASE WHEN {due} >= {} THEN {amount} ELSE 0 END)",
                    bound(last)
                )
            }
            (Some(first), Some(last)) => format!(
                "SUM(CASE WHEN {due} >= {} AND {due} < {} THEN {amount} ELSE 0 END)",
                bound(last),
                bound(first - 1)
            ),
            (Some(first), None) => {
                format!(
                    "SUM(CASE WHEN {due} < {} THEN {amount} ELSE 0 END)",
                    bound(first - 1)
                )
            }
            (None, None) => format!("SUM({amount})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone)]
pub(crate) struct Dashboard {
    pub aging: Aging,
    pub status_counts: Vec<(InvoiceStatus, i64)>,
    pub invoiced_last_30_days: Money,
    pub collected_last_30_days: Money,
    /// Refunds dated in the 30 days ending at `as_of`.
    pub refunded_last_30_days: Money,
    /// Credit notes issued in the 30 days, less credit notes voided in them.
    pub credited_last_30_days: Money,
    /// Write-offs dated in the 30 days, less write-offs reversed in them.
    pub written_off_last_30_days: Money,
    pub credit_sales_last_90_days: Money,
    /// Invoices fully paid by `as_of`, and the sum over them of days from issue to final payment.
    pub paid_invoice_count: i64,
    pub total_days_to_pay: i64,
    /// The same invoices' totals, and the sum over them of total (minor units) × days.
    pub paid_total: Money,
    pub weighted_days_to_pay: i128,
}

/// The CTE `open`: each invoice open at `?1` (as_of) with its open amount, for org `?2`,
/// the customer `?3` when `one` (see [`which_customers`]) and the customers of the report's
/// currency (`in_currency`).
pub(super) fn open_at_as_of(later_payments: bool, in_currency: &str, one: bool) -> String {
    // Open at as_of = open today + allocations applied after as_of − allocations reversed
    // after it. With neither (the usual case for today), what is open today is what was
    // open then: a single grouped scan. The moved invoices are read by id, one each, in
    // the order `late` holds them: `CROSS JOIN` keeps SQLite from walking every invoice
    // issued by as_of through `invoices_org_issue` instead, the plan it picked on its own
    // (2.4 s of a 1M book's aging at 2025-06-30, against 0.9 s; BENCHMARKS.md, issue 16).
    let (open_rule, issued_rule) = (rules::is_open("i."), rules::is_issued("i."));
    let [a_one, w_one, one] =
        ["a", "w", "i"].map(|t| which_customers(&format!("{t}.customer_id"), one));
    if later_payments {
        format!(
            "late AS (
             SELECT invoice_id, SUM(amount) AS amount FROM (
                 SELECT a.invoice_id, a.amount_minor AS amount
                 FROM allocations a INDEXED BY allocations_org_date
                 WHERE a.organization_id = ?2 AND a.applied_date > ?1 AND {a_one}
                 UNION ALL
                 SELECT a.invoice_id, -a.amount_minor
                 FROM allocations a INDEXED BY allocations_org_reversed
                 WHERE a.organization_id = ?2 AND a.reversed_date > ?1 AND {a_one}
                 UNION ALL
                 SELECT w.invoice_id, w.amount_minor
                 FROM write_offs w INDEXED BY write_offs_org_date
                 WHERE w.organization_id = ?2 AND w.write_off_date > ?1 AND {w_one}
                 UNION ALL
                 SELECT w.invoice_id, -w.amount_minor
                 FROM write_offs w INDEXED BY write_offs_org_reversed
                 WHERE w.organization_id = ?2 AND w.reversed_date > ?1 AND {w_one}) moves
             GROUP BY invoice_id
         ),
         open AS (
             SELECT i.customer_id, i.due_date, {open_amount} AS amount, i.id, i.issue_date
             FROM invoices i INDEXED BY invoices_open_by_customer
             WHERE i.organization_id = ?2 AND {open}
               AND i.issue_date <= ?1 AND {one}
               AND {in_currency}
               AND i.id NOT IN (SELECT invoice_id FROM late)
             UNION ALL
             SELECT i.customer_id, i.due_date, {open_amount} + l.amount, i.id, i.issue_date
             FROM late l CROSS JOIN invoices i
             WHERE i.organization_id = ?2 AND i.id = l.invoice_id
               AND i.issue_date <= ?1 AND {issued}
               AND {one} AND {in_currency}
         )",
            open = open_rule,
            issued = issued_rule,
            open_amount = rules::open_amount("i."),
        )
    } else {
        format!(
            "open AS (
             SELECT i.customer_id, i.due_date, {open_amount} AS amount, i.id, i.issue_date
             FROM invoices i INDEXED BY invoices_open_by_customer
             WHERE i.organization_id = ?2 AND {open}
               AND i.issue_date <= ?1 AND {one}
               AND {in_currency}
         )",
            open = open_rule,
            open_amount = rules::open_amount("i."),
        )
    }
}

/// The condition keeping the rows of one customer, `?3`, when `one`; else of every
/// customer (`?3` is then NULL). Two texts, not `(?3 IS NULL OR column = ?3)`: one plan
/// serves every bound value, and under that form it could use no index on the customer,
/// so one customer's report at a past date read every invoice of the organization.
pub(super) fn which_customers(column: &str, one: bool) -> String {
    if one {
        format!("{column} = ?3")
    } else {
        "CAST(?3 AS BIGINT) IS NULL".into()
    }
}

fn days_before(date: NaiveDate, days: u64) -> String {
    date_text(date.checked_sub_days(Days::new(days)).unwrap_or(date))
}

pub(crate) fn dashboard(
    conn: &Conn,
    scope: &ReportScope,
    as_of: NaiveDate,
) -> Result<Dashboard, AppError> {
    let aging = aging(conn, scope, as_of, None)?;
    let as_of_text = date_text(as_of);
    let (org, currency) = (scope.org, scope.currency.code());

    let mut stmt = conn.prepare_cached(
        "SELECT status, SUM(invoice_count) FROM invoice_daily
         WHERE organization_id = ?1 AND currency = ?3 AND issue_date <= ?2 GROUP BY status",
    )?;
    let mut counts: HashMap<String, i64> = HashMap::new();
    let mut rows = stmt.query(params![org, as_of_text, currency])?;
    while let Some(row) = rows.next()? {
        counts.insert(row.get(0)?, row.get(1)?);
    }
    let status_counts = InvoiceStatus::ALL
        .iter()
        .map(|s| (*s, counts.get(s.as_str()).copied().unwrap_or(0)))
        .collect();

    let invoiced_since = |days: u64| -> Result<Money, AppError> {
        Ok(Money::from_minor(conn.query_row(
            &format!(
                "SELECT COALESCE(SUM(total_minor), 0) FROM invoice_daily
                 WHERE organization_id = ?1 AND currency = ?4 AND {}
                   AND issue_date > ?2 AND issue_date <= ?3",
                rules::is_issued("")
            ),
            params![org, days_before(as_of, days), as_of_text, currency],
            |row| row.get(0),
        )?))
    };
    let credited_since = |days| window_sum(conn, &CREDITED_IN_WINDOW, (scope, as_of, days));
    let credited_last_30_days = credited_since(30)?;
    // DSO's credit sales are net of the credit notes that took part of them back.
    let credit_sales_last_90_days = credit_sales(conn, scope, (as_of, 90))?;
    let invoiced_last_30_days = invoiced_since(30)?;
    let window = (scope, as_of, 30);
    let collected_last_30_days = window_sum(conn, &COLLECTED_IN_WINDOW, window)?;
    let refunded_last_30_days = window_sum(conn, REFUNDED_IN_WINDOW, window)?;
    let written_off_last_30_days = window_sum(conn, &WRITTEN_OFF_IN_WINDOW, window)?;
    let (paid_invoice_count, total_days_to_pay): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(invoice_count), 0), COALESCE(SUM(days_to_pay), 0)
         FROM settled_daily WHERE organization_id = ?1 AND currency = ?3 AND settled_on <= ?2",
        params![org, as_of_text, currency],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let (paid_total, weighted_days_to_pay) = settled_amounts(conn, (org, currency), &as_of_text)?;
    Ok(Dashboard {
        aging,
        status_counts,
        invoiced_last_30_days,
        collected_last_30_days,
        refunded_last_30_days,
        credited_last_30_days,
        written_off_last_30_days,
        credit_sales_last_90_days,
        paid_invoice_count,
        total_days_to_pay,
        paid_total,
        weighted_days_to_pay,
    })
}

/// The totals of the invoices paid as of `as_of` and the sum of total × days to pay: the
/// weighted sum passes `i64` on large books, so it is stored as text and added here.
fn settled_amounts(
    conn: &Conn,
    (org, currency): (i64, &str),
    as_of: &str,
) -> Result<(Money, i128), AppError> {
    let mut rows = conn.prepare_cached(
        "SELECT paid_total_minor, weighted_days FROM settled_daily
             WHERE organization_id = ?1 AND currency = ?3 AND settled_on <= ?2",
    )?;
    let mut rows = rows.query(params![org, as_of, currency])?;
    let (mut total, mut weighted) = (0_i128, 0_i128);
    while let Some(row) = rows.next()? {
        total += i128::from(row.get::<_, i64>(0)?);
        let stored: String = row.get(1)?;
        weighted = weighted
            .checked_add(super::summaries::weighted_of(Some(&stored))?)
            .ok_or_else(|| AppError::Internal("weighted days to pay overflow".into()))?;
    }
    let total =
        i64::try_from(total).map_err(|_| AppError::Internal("paid totals overflow".into()))?;
    Ok((Money::from_minor(total), weighted))
}

/// Credit sales in the `days` ending at `end`: totals of invoices issued in them (neither
/// draft nor void), less credit notes issued in them and not voided in them (DSO's and
/// CEI's sales).
pub(crate) fn credit_sales(
    conn: &Conn,
    scope: &ReportScope,
    (end, days): (NaiveDate, u64),
) -> Result<Money, AppError> {
    let invoiced = invoiced(conn, scope, (end, days))?;
    let credited = window_sum(conn, &CREDITED_AGAINST_SALES, (scope, end, days))?;
    Ok(Money::from_minor(invoiced.minor() - credited.minor()))
}

/// Money received in the `days` ending at `end`, less payments voided in them.
pub(crate) fn collected(
    conn: &Conn,
    scope: &ReportScope,
    (end, days): (NaiveDate, u64),
) -> Result<Money, AppError> {
    window_sum(conn, &COLLECTED_IN_WINDOW, (scope, end, days))
}

/// Totals of invoices issued in the `days` ending at `end` (neither draft nor void).
pub(crate) fn invoiced(
    conn: &Conn,
    scope: &ReportScope,
    (end, days): (NaiveDate, u64),
) -> Result<Money, AppError> {
    let invoiced: i64 = conn.query_row(
        &format!(
            "SELECT COALESCE(SUM(total_minor), 0) FROM invoice_daily
             WHERE organization_id = ?1 AND currency = ?4 AND {}
               AND issue_date > ?2 AND issue_date <= ?3",
            rules::is_issued("")
        ),
        params![
            scope.org,
            days_before(end, days),
            date_text(end),
            scope.currency.code()
        ],
        |row| row.get(0),
    )?;
    Ok(Money::from_minor(invoiced))
}

/// The `amount` of the `table` rows `dated` in a window (`?2` < date <= `?3`), less that of
/// the rows voided in it: how payments and credit notes move a window's figures.
/// `{currency}` is the report's customers.
fn dated_less_voided(table: &str, amount: &str, dated: &str) -> String {
    format!(
        "SELECT (SELECT COALESCE(SUM({amount}), 0) FROM {table} INDEXED BY {table}_org_date
                 WHERE organization_id = ?1 AND {dated} > ?2 AND {dated} <= ?3 AND {{currency}})
              - (SELECT COALESCE(SUM({amount}), 0) FROM {table} INDEXED BY {table}_org_void
                 WHERE organization_id = ?1 AND void_date > ?2 AND void_date <= ?3 AND {{currency}})"
    )
}

/// Money received in a window, less payments voided in it (a bounced check).
static COLLECTED_IN_WINDOW: LazyLock<String> =
    LazyLock::new(|| dated_less_voided("payments", "amount_minor", "payment_date"));

/// Credit notes issued in a window and not voided by its end: what credit sales are net
/// of. (A note issued before the window and voided in it took back no sale made in it;
/// `CREDITED_IN_WINDOW`, a flow, counts that void against the window's credits.) A note
/// against an invoice voided since counts on no date, as its invoice does.
static CREDITED_AGAINST_SALES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COALESCE(SUM(total_minor), 0) FROM credit_notes INDEXED BY credit_notes_org_date
         WHERE organization_id = ?1 AND issue_date > ?2 AND issue_date <= ?3
           AND (void_date IS NULL OR void_date > ?3) AND {{currency}}
           AND (invoice_id IS NULL OR EXISTS (SELECT 1 FROM invoices i
                WHERE i.organization_id = ?1 AND i.id = credit_notes.invoice_id AND {}))",
        rules::is_issued("i.")
    )
});

/// Money given back in a window.
const REFUNDED_IN_WINDOW: &str = "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds
     WHERE organization_id = ?1 AND refund_date > ?2 AND refund_date <= ?3 AND {currency}";

/// Credit notes issued in a window, less credit notes voided in it.
static CREDITED_IN_WINDOW: LazyLock<String> =
    LazyLock::new(|| dated_less_voided("credit_notes", "total_minor", "issue_date"));

/// Write-offs dated in a window, less write-offs reversed in it (a recovered bad debt). A
/// write-off of an invoice voided since counts on no date, as its invoice does.
static WRITTEN_OFF_IN_WINDOW: LazyLock<String> = LazyLock::new(|| {
    let counted = format!(
        "EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = ?1
                   AND i.id = write_offs.invoice_id AND {})",
        rules::is_issued("i.")
    );
    format!(
        "SELECT (SELECT COALESCE(SUM(amount_minor), 0) FROM write_offs INDEXED BY write_offs_org_date
             WHERE organization_id = ?1 AND write_off_date > ?2 AND write_off_date <= ?3
               AND {{currency}} AND {counted})
          - (SELECT COALESCE(SUM(amount_minor), 0) FROM write_offs INDEXED BY write_offs_org_reversed
             WHERE organization_id = ?1 AND reversed_date > ?2 AND reversed_date <= ?3
               AND {{currency}} AND {counted})"
    )
});

/// One of the window sums above over the `days` days ending at `as_of`.
fn window_sum(
    conn: &Conn,
    sql: &str,
    (scope, as_of, days): (&ReportScope, NaiveDate, u64),
) -> Result<Money, AppError> {
    let sql = sql.replace("{currency}", &scope.customers("customer_id"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let (from, to) = (days_before(as_of, days), date_text(as_of));
    scope.bind(&mut stmt, &[&scope.org, &from, &to])?;
    let mut rows = stmt.raw_query();
    let sum = match rows.next()? {
        Some(row) => row.get(0)?,
        None => 0,
    };
    Ok(Money::from_minor(sum))
}
