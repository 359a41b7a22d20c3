//! What else settled part of an invoice, beside its payments: the credit notes applied to
//! it and its write-offs, as its detail answer lists them. Each is read with one probe of
//! a small index; the hot detail read skips a kind its invoice has none of.

use super::conn::Conn;
use crate::domain::money::Money;
use crate::error::AppError;

/// A credit note as an invoice lists it: how much of it is applied to the invoice, live.
#[derive(Debug, Clone)]
pub(crate) struct InvoiceCredit {
    pub credit_note_id: i64,
    pub credit_note_number: String,
    pub amount: Money,
}

/// A write-off of an invoice, reversed or not.
#[derive(Debug, Clone)]
pub(crate) struct WriteOff {
    pub id: i64,
    pub amount: Money,
    pub write_off_date: String,
    pub reason: String,
    pub reversed_date: Option<String>,
    pub reversal_reason: Option<String>,
}

/// An invoice's credit notes and write-offs.
#[derive(Debug, Clone, Default)]
pub(crate) struct InvoiceLedger {
    pub credit_notes: Vec<InvoiceCredit>,
    pub write_offs: Vec<WriteOff>,
}

/// Which kinds of rows an invoice has in its ledger, when the caller knows (see
/// `details::with_detail_row`); a kind it has none of is not looked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LedgerParts {
    pub credit_notes: bool,
    pub write_offs: bool,
}

impl LedgerParts {
    /// Not known: look for both.
    pub(crate) const ANY: LedgerParts = LedgerParts {
        credit_notes: true,
        write_offs: true,
    };
}

/// The credit notes applied to invoice `id` (live allocations, summed per note) and every
/// write-off of it, by date.
pub(crate) fn ledger_of(conn: &Conn, key: (i64, i64)) -> Result<InvoiceLedger, AppError> {
    ledger_holding(conn, key, LedgerParts::ANY)
}

/// [`ledger_of`] for an invoice known to hold only the `parts` named.
pub(crate) fn ledger_holding(
    conn: &Conn,
    key: (i64, i64),
    parts: LedgerParts,
) -> Result<InvoiceLedger, AppError> {
    Ok(InvoiceLedger {
        credit_notes: if parts.credit_notes {
            credit_notes_of(conn, key)?
        } else {
            Vec::new()
        },
        write_offs: if parts.write_offs {
            write_offs_of(conn, key)?
        } else {
            Vec::new()
        },
    })
}

fn credit_notes_of(conn: &Conn, (org, id): (i64, i64)) -> Result<Vec<InvoiceCredit>, AppError> {
    let credit_notes = conn
        .prepare_cached(
            "SELECT n.id, n.credit_note_number, SUM(a.amount_minor)
             FROM allocations a INDEXED BY allocations_invoice_credit
             JOIN credit_notes n ON n.organization_id = a.organization_id AND n.id = a.credit_note_id
             WHERE a.invoice_id = ?1 AND a.organization_id = ?2
               AND a.credit_note_id IS NOT NULL AND a.reversed_date IS NULL
             GROUP BY n.id, n.credit_note_number ORDER BY n.id",
        )?
        .query_map([id, org], |row| {
            Ok(InvoiceCredit {
                credit_note_id: row.get(0)?,
                credit_note_number: row.get(1)?,
                amount: Money::from_minor(row.get(2)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(credit_notes)
}

fn write_offs_of(conn: &Conn, (org, id): (i64, i64)) -> Result<Vec<WriteOff>, AppError> {
    let write_offs = conn
        .prepare_cached(
            "SELECT id, amount_minor, write_off_date, reason, reversed_date, reversal_reason
             FROM write_offs INDEXED BY write_offs_invoice
             WHERE invoice_id = ?1 AND organization_id = ?2
             ORDER BY write_off_date, id",
        )?
        .query_map([id, org], |row| {
            Ok(WriteOff {
                id: row.get(0)?,
                amount: Money::from_minor(row.get(1)?),
                write_off_date: row.get(2)?,
                reason: row.get(3)?,
                reversed_date: row.get(4)?,
                reversal_reason: row.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(write_offs)
}
