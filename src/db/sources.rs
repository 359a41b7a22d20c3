//! What both credit sources (payments and credit notes) share: their allocations and
//! refunds as read back, the plan of allocations applied from one, and the facts a later
//! use of their credit is checked against.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::allocations::{allocate, source_column, Allocation};
use super::codec::stored_date;
use super::conn::{params, params_from_iter, Conn};
use super::invoices::Invoice;
use super::WriteTx;
use crate::domain::currency::Currency;
use crate::domain::ledger::Movement;
use crate::domain::money::{GivenAmount, Money};
use crate::domain::payment::{Blame, CreditSource, PaymentMethod, SourceKind};
use crate::error::AppError;

/// The table holding sources of `kind`.
pub(crate) fn table(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Payment => "payments",
        SourceKind::CreditNote => "credit_notes",
    }
}

/// One allocation as its source lists it.
#[derive(Debug, Clone)]
pub(crate) struct SourceAllocation {
    pub id: i64,
    pub invoice_id: i64,
    pub invoice_number: String,
    pub amount: Money,
    pub applied_date: String,
    pub reversed_date: Option<String>,
}

/// Money given back from a source's unapplied credit.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: i64,
    pub amount: Money,
    pub refund_date: String,
    pub payment_method: String,
    pub reference_number: Option<String>,
    pub reason: Option<String>,
}

/// A refund as the rules take it.
#[derive(Debug, Clone)]
pub(crate) struct NewRefund {
    /// In the source's currency.
    pub amount: GivenAmount,
    pub refund_date: NaiveDate,
    pub payment_method: PaymentMethod,
    pub reference_number: Option<String>,
    pub reason: Option<String>,
}

/// The suffix of the allocations' and refunds' indexes by source of `kind`.
fn source_index(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Payment => "payment",
        SourceKind::CreditNote => "credit_note",
    }
}

/// What a query of the rows of the sources `ids` of `kind` names: the sources' column, the
/// suffix of their index and one `?` a source; `None` when there are none to ask for.
fn by_sources(kind: SourceKind, ids: &[i64]) -> Option<(&'static str, &'static str, String)> {
    let marks = vec!["?"; ids.len()].join(", ");
    (!ids.is_empty()).then_some((source_column(kind), source_index(kind), marks))
}

/// The allocations of the sources `ids` of `kind`, each list by date, in one query.
pub(crate) fn allocations_of(
    conn: &Conn,
    (org, kind): (i64, SourceKind),
    ids: &[i64],
) -> Result<HashMap<i64, Vec<SourceAllocation>>, AppError> {
    let mut by_source: HashMap<i64, Vec<SourceAllocation>> = HashMap::new();
    let Some((column, index, marks)) = by_sources(kind, ids) else {
        return Ok(by_source);
    };
    // The index is named: without the book's statistics (a book being seeded) SQLite
    // would take the organization's index and read every allocation of it.
    let sql = format!(
        "SELECT a.{column}, a.id, a.invoice_id, i.invoice_number, a.amount_minor,
                a.applied_date, a.reversed_date
         FROM allocations a INDEXED BY allocations_{index}
         JOIN invoices i ON i.organization_id = a.organization_id AND i.id = a.invoice_id
         WHERE a.organization_id = ? AND a.{column} IN ({marks})
         ORDER BY a.{column}, a.applied_date, a.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(std::iter::once(&org).chain(ids)))?;
    while let Some(row) = rows.next()? {
        by_source
            .entry(row.get(0)?)
            .or_default()
            .push(SourceAllocation {
                id: row.get(1)?,
                invoice_id: row.get(2)?,
                invoice_number: row.get(3)?,
                amount: Money::from_minor(row.get(4)?),
                applied_date: row.get(5)?,
                reversed_date: row.get(6)?,
            });
    }
    Ok(by_source)
}

/// The refunds of the sources `ids` of `kind`, each list by date, in one query.
pub(crate) fn refunds_of(
    conn: &Conn,
    (org, kind): (i64, SourceKind),
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Refund>>, AppError> {
    let mut by_source: HashMap<i64, Vec<Refund>> = HashMap::new();
    let Some((column, index, marks)) = by_sources(kind, ids) else {
        return Ok(by_source);
    };
    let sql = format!(
        "SELECT {column}, id, amount_minor, refund_date, payment_method, reference_number, reason
         FROM refunds INDEXED BY refunds_{index} WHERE organization_id = ? AND {column} IN ({marks})
         ORDER BY {column}, refund_date, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(std::iter::once(&org).chain(ids)))?;
    while let Some(row) = rows.next()? {
        by_source.entry(row.get(0)?).or_default().push(Refund {
            id: row.get(1)?,
            amount: Money::from_minor(row.get(2)?),
            refund_date: row.get(3)?,
            payment_method: row.get(4)?,
            reference_number: row.get(5)?,
            reason: row.get(6)?,
        });
    }
    Ok(by_source)
}

/// What is allocated from a source and not reversed.
pub(crate) fn applied(allocations: &[SourceAllocation]) -> Money {
    Money::from_minor(
        allocations
            .iter()
            .filter(|a| a.reversed_date.is_none())
            .map(|a| a.amount.minor())
            .sum(),
    )
}

/// Allocations listed by the client, each blamed by its index.
/// Each listed allocation with its amount in the source's `currency` and the fields a
/// refusal names (`allocations[2].amount`).
pub(super) fn with_blame(
    list: Vec<(i64, GivenAmount)>,
    date: &'static str,
    currency: Currency,
) -> Result<Vec<(i64, Money, Blame)>, AppError> {
    list.into_iter()
        .enumerate()
        .map(|(index, (id, given))| {
            let blame = Blame::allocation(index, date);
            let amount = given
                .in_currency(currency)
                .map_err(|err| AppError::field(&blame.amount, err.to_string()))?;
            Ok((id, amount, blame))
        })
        .collect()
}

/// The source allocations are made from: its organization, customer, kind and id, and
/// currency.
pub(super) type AllocatingSource = (i64, i64, (SourceKind, i64), Currency);

/// Applies each planned allocation from the source on `date` and takes what they used
/// off its unapplied credit.
pub(super) fn apply_plan(
    tx: &WriteTx,
    source: AllocatingSource,
    plan: Vec<(i64, Money, Blame)>,
    date: NaiveDate,
    (today, now): (NaiveDate, &str),
) -> Result<(), AppError> {
    let used = allocate_plan(tx, (source, None), plan, date, (today, now))?;
    let (org, _, (kind, id), _) = source;
    tx.prepare_cached(&format!(
        "UPDATE {} SET unapplied_minor = unapplied_minor - ?2 WHERE organization_id = ?3 AND id = ?1",
        table(kind)
    ))?
    .execute(params![id, used, org])?;
    Ok(())
}

/// Applies each planned allocation from the source on `date`; answers what they used, for
/// a source whose unapplied credit already leaves it out (a payment recorded with its
/// plan). [`planned`] is the same sum, before. `known` is an invoice of the plan whose
/// header the caller has just read.
pub(super) fn allocate_plan(
    tx: &WriteTx,
    ((org, customer_id, source, currency), known): (AllocatingSource, Option<&Invoice>),
    plan: Vec<(i64, Money, Blame)>,
    date: NaiveDate,
    (today, now): (NaiveDate, &str),
) -> Result<i64, AppError> {
    for (invoice_id, amount, blame) in &plan {
        let allocation = Allocation {
            org,
            customer_id,
            source,
            invoice_id: *invoice_id,
            amount: *amount,
            currency,
            date,
            blame,
            known: known.filter(|invoice| invoice.id == *invoice_id),
        };
        allocate(tx, &allocation, today, now)?;
    }
    Ok(planned(&plan))
}

/// What the planned allocations add up to, in minor units.
pub(super) fn planned(plan: &[(i64, Money, Blame)]) -> i64 {
    plan.iter().map(|(_, amount, _)| amount.minor()).sum()
}

/// A source as the checks on its credit read it.
pub(crate) struct SourceFacts<'a> {
    pub kind: SourceKind,
    pub id: i64,
    pub customer_id: i64,
    /// Its date as stored (a payment's date, a credit note's issue date).
    pub date: &'a str,
    pub amount: Money,
    pub refunded: Money,
    pub void_date: Option<&'a str>,
    pub currency: Currency,
    pub allocations: &'a [SourceAllocation],
    pub refunds: &'a [Refund],
}

impl SourceFacts<'_> {
    /// The movements of its unapplied credit: its amount on its date, each allocation out
    /// on its date and back on its reversal's, each refund out, and a void taking the rest.
    pub(crate) fn credit_movements(&self) -> Result<Vec<Movement>, AppError> {
        let dated = |text: &str, name: &str| stored_date(self.id, 0, name, text);
        let mut movements = vec![Movement::new(
            dated(self.date, "date")?,
            self.amount.minor(),
        )];
        for allocation in self.allocations {
            let amount = allocation.amount.minor();
            movements.push(Movement::new(
                dated(&allocation.applied_date, "applied_date")?,
                -amount,
            ));
            if let Some(reversed) = &allocation.reversed_date {
                movements.push(Movement::new(dated(reversed, "reversed_date")?, amount));
            }
        }
        for refund in self.refunds {
            movements.push(Movement::new(
                dated(&refund.refund_date, "refund_date")?,
                -refund.amount.minor(),
            ));
        }
        if let Some(void_date) = self.void_date {
            // A void reverses every allocation on its date and takes the whole amount back.
            movements.push(Movement::new(
                dated(void_date, "void_date")?,
                -self.amount.minor(),
            ));
        }
        Ok(movements)
    }

    pub(crate) fn source(&self) -> Result<CreditSource, AppError> {
        Ok(CreditSource {
            kind: self.kind,
            id: self.id,
            date: stored_date(self.id, 0, "date", self.date)?,
            void: self.void_date.is_some(),
            currency: self.currency,
        })
    }
}
