//! Customers' unapplied credit at a date: today's, less what moved it after the date.
//! A customer's **credit balance at D** is the unapplied credit of its credit sources
//! (payments and credit notes) at D.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::codec::date_text;
use super::conn::Conn;
use super::report_scope::ReportScope;
use crate::domain::money::Money;
use crate::error::AppError;

/// Unapplied credit per customer at `as_of` (only customers with some), for the
/// organization or one customer. Credit at D = credit today − every credit movement dated
/// after D: a payment or credit note adds its amount on its date, an allocation (every allocation has a
/// credit source) takes on its date and gives back on its reversal's, a refund takes, a
/// void takes the amount. Each branch reads a covering date index.
pub(crate) fn unapplied_credit_at(
    conn: &Conn,
    scope: &ReportScope,
    as_of: NaiveDate,
    customer_id: Option<i64>,
) -> Result<HashMap<i64, Money>, AppError> {
    let in_currency = scope.customers("customer_id");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT customer_id, SUM(amount) FROM (
             SELECT customer_id, unapplied_minor AS amount FROM payments INDEXED BY payments_unapplied
             WHERE organization_id = ?2 AND unapplied_minor > 0
             UNION ALL
             SELECT customer_id, -amount_minor FROM payments INDEXED BY payments_org_date
             WHERE organization_id = ?2 AND payment_date > ?1
             UNION ALL
             SELECT customer_id, amount_minor FROM payments INDEXED BY payments_org_void
             WHERE organization_id = ?2 AND void_date > ?1
             UNION ALL
             SELECT customer_id, unapplied_minor FROM credit_notes INDEXED BY credit_notes_unapplied
             WHERE organization_id = ?2 AND unapplied_minor > 0
             UNION ALL
             SELECT customer_id, -total_minor FROM credit_notes INDEXED BY credit_notes_org_date
             WHERE organization_id = ?2 AND issue_date > ?1
             UNION ALL
             SELECT customer_id, total_minor FROM credit_notes INDEXED BY credit_notes_org_void
             WHERE organization_id = ?2 AND void_date > ?1
             UNION ALL
             SELECT customer_id, amount_minor FROM allocations INDEXED BY allocations_org_date
             WHERE organization_id = ?2 AND applied_date > ?1
             UNION ALL
             SELECT customer_id, -amount_minor FROM allocations INDEXED BY allocations_org_reversed
             WHERE organization_id = ?2 AND reversed_date > ?1
             UNION ALL
             SELECT customer_id, amount_minor FROM refunds
             WHERE organization_id = ?2 AND refund_date > ?1) movements
         WHERE (CAST(?3 AS BIGINT) IS NULL OR customer_id = ?3) AND {in_currency}
         GROUP BY customer_id HAVING SUM(amount) <> 0"
    ))?;
    scope.bind(&mut stmt, &[&date_text(as_of), &scope.org, &customer_id])?;
    let mut rows = stmt.raw_query();
    let mut credit = HashMap::new();
    while let Some(row) = rows.next()? {
        credit.insert(row.get(0)?, Money::from_minor(row.get(1)?));
    }
    Ok(credit)
}

/// A customer's unapplied credit today, over both kinds of credit source.
pub(crate) const CREDIT_TODAY: &str = "((SELECT COALESCE(SUM(p.unapplied_minor), 0)
    FROM payments p INDEXED BY payments_unapplied
    WHERE p.organization_id = c.organization_id AND p.customer_id = c.id AND p.unapplied_minor > 0)
  + (SELECT COALESCE(SUM(n.unapplied_minor), 0)
    FROM credit_notes n INDEXED BY credit_notes_unapplied
    WHERE n.organization_id = c.organization_id AND n.customer_id = c.id AND n.unapplied_minor > 0))";
