//! Which documents a report in one currency covers. A sum over two currencies means
//! nothing, so every report is of one currency: the customers billed in it (each customer's
//! documents are all in its currency, fixed once it has one).

use rusqlite::{params, Connection};

use super::organization;
use crate::domain::currency::Currency;
use crate::error::AppError;

/// One currency of one organization's books.
#[derive(Debug, Clone)]
pub(crate) struct ReportScope {
    pub org: i64,
    pub currency: Currency,
    /// The condition on a customer id that keeps the customers billed in `currency`;
    /// `None` when that is all of them (the usual one-currency book: no filter at all).
    customers: Option<String>,
}

impl ReportScope {
    /// A report of organization `org` in `currency`: the one asked for, else the
    /// customer's (a report of one customer), else the organization's. Also answers the
    /// organization's other currencies, for the caller to say which hold open amounts.
    pub(crate) fn of(
        conn: &Connection,
        org: i64,
        asked: Option<Currency>,
        customer: Option<i64>,
    ) -> Result<(ReportScope, Vec<Currency>), AppError> {
        let books = organization::currency(conn, org)?;
        let mut all = vec![books];
        let mut own = conn.prepare_cached(
            "SELECT DISTINCT currency FROM customers INDEXED BY customers_own_currency
             WHERE organization_id = ?1 AND currency IS NOT NULL",
        )?;
        let mut rows = own.query(params![org])?;
        while let Some(row) = rows.next()? {
            all.push(Currency::stored(&row.get::<_, String>(0)?));
        }
        all.sort_by(|a, b| a.code().cmp(b.code()));
        all.dedup();
        let customers = match customer {
            Some(id) => super::customers::billing(conn, org, id)?.map(|(_, currency)| currency),
            None => None,
        };
        let currency = asked.or(customers).unwrap_or(books);
        let whole = all == [currency];
        let filter = (!whole).then(|| {
            format!(
                "IN (SELECT id FROM customers WHERE organization_id = {org} \
                 AND COALESCE(currency, '{}') = '{}')",
                books.code(),
                currency.code()
            )
        });
        let others = all.into_iter().filter(|c| *c != currency).collect();
        let scope = ReportScope {
            org,
            currency,
            customers: filter,
        };
        Ok((scope, others))
    }

    /// The SQL condition that keeps rows whose customer id `column` is in the scope's
    /// currency (the codes are checked ISO codes and the id a number: nothing to escape).
    pub(crate) fn customers(&self, column: &str) -> String {
        match &self.customers {
            Some(filter) => format!("{column} {filter}"),
            None => "1".into(),
        }
    }

    /// The same scope in another of the organization's currencies.
    pub(crate) fn in_currency(&self, conn: &Connection, other: Currency) -> Result<Self, AppError> {
        Ok(Self::of(conn, self.org, Some(other), None)?.0)
    }
}
