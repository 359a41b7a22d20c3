//! Which documents a report in one currency covers. A sum over two currencies means
//! nothing, so every report is of one currency: the customers billed in it (each customer's
//! documents are all in its currency, fixed once it has one).

use super::conn::{params, value::ToSql, Conn, Stmt};
use super::organization;
use crate::domain::currency::Currency;
use crate::error::AppError;

/// One currency of one organization's books.
#[derive(Debug, Clone)]
pub(crate) struct ReportScope {
    pub org: i64,
    pub currency: Currency,
    /// The organization's own currency (its customers without one are in it).
    books: Currency,
    /// False when every customer is billed in `currency` (the usual one-currency book):
    /// then no filter at all.
    filtered: bool,
}

/// The parameters [`ReportScope::customers`] uses, numbered apart from any statement's own
/// (`?1`…), so the SQL text is the same for every organization and currency: one cached
/// statement each, however many books a server keeps.
const SCOPE_ORG: usize = 97;
const SCOPE_BOOKS: usize = 98;
const SCOPE_CURRENCY: usize = 99;

impl ReportScope {
    /// A report of organization `org` in `currency`: the one asked for, else the
    /// customer's (a report of one customer), else the organization's. Also answers the
    /// organization's other currencies, for the caller to say which hold open amounts.
    pub(crate) fn of(
        conn: &Conn,
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
        let filtered = all != [currency];
        let others = all.into_iter().filter(|c| *c != currency).collect();
        let scope = ReportScope {
            org,
            currency,
            books,
            filtered,
        };
        Ok((scope, others))
    }

    /// The SQL condition that keeps rows whose customer id `column` is in the scope's
    /// currency; bind the statement with [`ReportScope::bind`].
    pub(crate) fn customers(&self, column: &str) -> String {
        if self.filtered {
            format!(
                "{column} IN (SELECT id FROM customers WHERE organization_id = ?{SCOPE_ORG} \
                 AND COALESCE(currency, ?{SCOPE_BOOKS}) = ?{SCOPE_CURRENCY})"
            )
        } else {
            "TRUE".into()
        }
    }

    /// Binds `values` as `?1`… and the scope's own parameters, for a statement whose SQL
    /// holds [`ReportScope::customers`]; run it with `raw_query`.
    pub(crate) fn bind(&self, stmt: &mut Stmt, values: &[&dyn ToSql]) -> Result<(), AppError> {
        for (index, value) in values.iter().enumerate() {
            stmt.raw_bind_parameter(index + 1, value)?;
        }
        if self.filtered {
            stmt.raw_bind_parameter(SCOPE_ORG, self.org)?;
            stmt.raw_bind_parameter(SCOPE_BOOKS, self.books.code())?;
            stmt.raw_bind_parameter(SCOPE_CURRENCY, self.currency.code())?;
        }
        Ok(())
    }

    /// The same scope in another of the organization's currencies: a book with two
    /// currencies is filtered in each.
    pub(crate) fn in_currency(&self, other: Currency) -> Self {
        ReportScope {
            currency: other,
            filtered: true,
            ..self.clone()
        }
    }
}
