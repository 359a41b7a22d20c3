//! A customer's statement: every dated event of its account in a period, each with its
//! effect on what the customer owes, and the running balance.
//!
//! The balance at D is what the customer owes net of credit, the aging report's `net`:
//! `open invoices − unapplied credit`. Written out over the events, an allocation takes
//! from the credit what it gives to an invoice, so it cancels, and the balance is the sum of
//!
//! | event | effect |
//! |---|---|
//! | invoice issued (neither draft nor void) | + total |
//! | payment received / voided | − amount / + amount |
//! | credit note issued / voided | − total / + total |
//! | refund of credit | + amount |
//! | write-off / its reversal | − amount / + amount |
//! | credit applied to an invoice, or that reversed | 0 (listed, with the amount applied) |
//! | a void invoice | 0: it counts on no date, as in every report (listed on its issue date) |
//! | credit applied to an invoice voided later / that reversed | + amount / − amount |
//! | a write-off (or its reversal) of an invoice voided later | 0 |
//!
//! so `closing = opening + the period's effects`, and equals the aging `net` at `to`. (An
//! invoice voided after credit was applied to it and taken back never counts, but while
//! the credit sat on it the credit was not the customer's to use: so the aging has it, so
//! the statement does.)

use chrono::NaiveDate;

use super::currency::Currency;
use super::money::Money;

/// What happened on a line of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EntryKind {
    Invoice,
    InvoiceVoid,
    CreditNote,
    Payment,
    Allocation,
    Refund,
    WriteOff,
    AllocationReversal,
    WriteOffReversal,
    CreditNoteVoid,
    PaymentVoid,
}

impl EntryKind {
    pub(crate) const ALL: [EntryKind; 11] = [
        EntryKind::Invoice,
        EntryKind::InvoiceVoid,
        EntryKind::CreditNote,
        EntryKind::Payment,
        EntryKind::Allocation,
        EntryKind::Refund,
        EntryKind::WriteOff,
        EntryKind::AllocationReversal,
        EntryKind::WriteOffReversal,
        EntryKind::CreditNoteVoid,
        EntryKind::PaymentVoid,
    ];

    /// The name stored in the statement query and sent on the wire.
    pub(crate) fn code(self) -> &'static str {
        match self {
            EntryKind::Invoice => "invoice",
            EntryKind::InvoiceVoid => "invoice_void",
            EntryKind::CreditNote => "credit_note",
            EntryKind::Payment => "payment",
            EntryKind::Allocation => "allocation",
            EntryKind::Refund => "refund",
            EntryKind::WriteOff => "write_off",
            EntryKind::AllocationReversal => "allocation_reversal",
            EntryKind::WriteOffReversal => "write_off_reversal",
            EntryKind::CreditNoteVoid => "credit_note_void",
            EntryKind::PaymentVoid => "payment_void",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// One event of the account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub date: NaiveDate,
    pub kind: EntryKind,
    /// The row the event is (an invoice, a payment, an allocation...): with the kind, a
    /// stable order among events of one day.
    pub id: i64,
    /// Its effect on what the customer owes.
    pub amount: Money,
    /// For credit applied or its reversal, and for a void invoice: the amount concerned.
    pub applied: Option<Money>,
    /// The document a reader looks for: an invoice or credit note number, a payment's
    /// reference.
    pub reference: String,
    /// What happened, in words.
    pub description: String,
}

/// The facts of one event a statement puts into words: its row, its reference, two words
/// that depend on its kind (a due date, a method, a reason; the source of credit) and the
/// amount concerned when that is not its effect.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub id: i64,
    pub reference: String,
    pub a: Option<String>,
    pub b: Option<String>,
    pub applied: Option<Money>,
    /// Credit applied to an invoice voided later: held there, not paying anything.
    pub held: bool,
}

/// A stored method name (`bank_transfer`) as words (`Bank transfer`).
pub(crate) fn method_words(method: &str) -> String {
    let words = method.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What happened, in the words a statement prints.
pub(crate) fn describe(kind: EntryKind, facts: &Facts, currency: Currency) -> String {
    let a = facts.a.as_deref().unwrap_or_default();
    let source = facts.b.as_deref().unwrap_or("credit");
    let number = &facts.reference;
    let applied = facts.applied.unwrap_or_default().text(currency);
    let applied = applied.as_str();
    let because = |text: &str| {
        if a.is_empty() {
            text.to_owned()
        } else {
            format!("{text}: {a}")
        }
    };
    match kind {
        EntryKind::Invoice => format!("Invoice {number}, due {a}"),
        EntryKind::InvoiceVoid => format!("Invoice {number} of {applied}, void: counts on no date"),
        EntryKind::Payment => format!("Payment #{} ({})", facts.id, method_words(a)),
        EntryKind::PaymentVoid => format!("Payment #{} voided", facts.id),
        EntryKind::CreditNote => because(&format!("Credit note {number}")),
        EntryKind::CreditNoteVoid => format!("Credit note {number} voided"),
        EntryKind::Refund => format!("Refund of {source} ({})", method_words(a)),
        EntryKind::WriteOff => because(&format!("Write-off of {number}")),
        EntryKind::WriteOffReversal => because(&format!("Write-off of {number} reversed")),
        EntryKind::Allocation if facts.held => {
            format!("{applied} of {source} held on {number}, voided later")
        }
        EntryKind::Allocation => format!("{applied} of {source} applied to {number}"),
        EntryKind::AllocationReversal => because(&format!(
            "{applied} of {source} applied to {number} reversed"
        )),
    }
}

/// A line of the statement: the event and the balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub entry: Entry,
    pub balance: Money,
}

/// The period's lines in order (by date; on one day charges before credits, then by row),
/// each with the running balance from `opening`; and the closing balance. `None` when a sum
/// leaves the range of an i64 of minor units (no real book comes near).
pub(crate) fn running(opening: Money, mut entries: Vec<Entry>) -> Option<(Vec<Line>, Money)> {
    entries.sort_by_key(|e| (e.date, e.kind, e.id));
    let mut balance = opening;
    let mut lines = Vec::with_capacity(entries.len());
    for entry in entries {
        balance = Money::from_minor(balance.minor().checked_add(entry.amount.minor())?);
        lines.push(Line { entry, balance });
    }
    Some((lines, balance))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(date: &str, kind: EntryKind, id: i64, amount: i64) -> Entry {
        Entry {
            date: date.parse().unwrap(),
            kind,
            id,
            amount: Money::from_minor(amount),
            applied: None,
            reference: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn the_running_balance_adds_each_effect_in_date_order() {
        let entries = vec![
            entry("2024-02-10", EntryKind::Payment, 7, -30_000),
            entry("2024-02-01", EntryKind::Invoice, 3, 50_000),
            entry("2024-02-10", EntryKind::Allocation, 2, 0),
            entry("2024-02-10", EntryKind::Invoice, 9, 10_000),
            entry("2024-02-20", EntryKind::PaymentVoid, 7, 30_000),
        ];
        let (lines, closing) = running(Money::from_minor(1_000), entries).unwrap();
        let order: Vec<_> = lines
            .iter()
            .map(|l| (l.entry.kind, l.balance.minor()))
            .collect();
        assert_eq!(
            order,
            [
                (EntryKind::Invoice, 51_000),
                (EntryKind::Invoice, 61_000),
                (EntryKind::Payment, 31_000),
                (EntryKind::Allocation, 31_000),
                (EntryKind::PaymentVoid, 61_000),
            ]
        );
        assert_eq!(closing.minor(), 61_000);
    }

    #[test]
    fn an_empty_period_closes_at_its_opening() {
        let (lines, closing) = running(Money::from_minor(-500), Vec::new()).unwrap();
        assert!(lines.is_empty());
        assert_eq!(closing.minor(), -500);
    }

    #[test]
    fn events_read_as_words() {
        let facts = |a: Option<&str>, b: Option<&str>, applied: Option<i64>| Facts {
            id: 12,
            reference: "INV-7".into(),
            a: a.map(str::to_owned),
            b: b.map(str::to_owned),
            applied: applied.map(Money::from_minor),
            held: false,
        };
        let usd = Currency::USD;
        let said = |kind, f: &Facts| describe(kind, f, usd);
        assert_eq!(
            said(EntryKind::Invoice, &facts(Some("2024-02-04"), None, None)),
            "Invoice INV-7, due 2024-02-04"
        );
        assert_eq!(
            said(
                EntryKind::Payment,
                &facts(Some("bank_transfer"), None, None)
            ),
            "Payment #12 (Bank transfer)"
        );
        let applied = facts(None, Some("payment #3"), Some(10_050));
        assert_eq!(
            said(EntryKind::Allocation, &applied),
            "100.50 of payment #3 applied to INV-7"
        );
        assert_eq!(
            said(EntryKind::WriteOff, &facts(Some("Gone"), None, None)),
            "Write-off of INV-7: Gone"
        );
        assert_eq!(
            said(EntryKind::WriteOffReversal, &facts(None, None, None)),
            "Write-off of INV-7 reversed"
        );
        let void = facts(None, None, Some(2_500));
        assert_eq!(
            said(EntryKind::InvoiceVoid, &void),
            "Invoice INV-7 of 25.00, void: counts on no date"
        );
    }

    #[test]
    fn codes_round_trip() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(EntryKind::from_code("nothing"), None);
    }
}
