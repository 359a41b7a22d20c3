//! Changing an invoice after it is created: what may change in which status.
//!
//! A draft is a working copy: every field may change, its lines replaced whole. Once an
//! invoice is issued it is a document the customer holds, so only its notes and due date
//! may change, and only while nothing has been applied to it; anything else is corrected
//! the way an accountant would, with a credit note, or by voiding it and issuing anew.

use chrono::NaiveDate;

use super::invoice::{InvoiceStatus, LineInput};
use super::money::Money;
use crate::error::{AppError, FieldErrors};

/// The changes asked of an existing invoice; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct InvoiceChanges {
    pub customer_id: Option<i64>,
    pub invoice_number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// `Some(None)` clears the notes.
    pub notes: Option<Option<String>>,
    /// The new lines, replacing every old one; priced in the invoice's currency.
    pub lines: Option<Vec<LineInput>>,
}

/// The fields an issued invoice may still change, while nothing is applied to it.
const CHANGEABLE_WHEN_ISSUED: [&str; 2] = ["notes", "due_date"];

impl InvoiceChanges {
    /// The fields given, by their names in the request.
    pub(crate) fn fields(&self) -> Vec<&'static str> {
        [
            ("customer_id", self.customer_id.is_some()),
            ("invoice_number", self.invoice_number.is_some()),
            ("issue_date", self.issue_date.is_some()),
            ("due_date", self.due_date.is_some()),
            ("notes", self.notes.is_some()),
            ("items", self.lines.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// True when the due date should be derived again from the customer's terms: the
    /// issue date or the customer changed and no due date was given.
    pub(crate) fn rederives_due_date(&self) -> bool {
        self.due_date.is_none() && (self.issue_date.is_some() || self.customer_id.is_some())
    }
}

/// Refuses (409, naming each field) the changes an invoice in `status` may not take, given
/// what was ever allocated to it (`allocated`, reversed allocations included).
pub(crate) fn check_changes(
    id: i64,
    status: InvoiceStatus,
    allocated: Money,
    changes: &InvoiceChanges,
) -> Result<(), AppError> {
    if status == InvoiceStatus::Draft {
        return Ok(());
    }
    let mut refused = FieldErrors::new();
    for field in changes.fields() {
        let reason = if !CHANGEABLE_WHEN_ISSUED.contains(&field) {
            format!(
                "cannot change once the invoice is issued (it is {}): issue a credit note, or \
                 void the invoice and issue a new one",
                status.as_str()
            )
        } else if status != InvoiceStatus::Sent || allocated.is_positive() {
            format!(
                "cannot change once anything has been applied to the invoice or it is closed (it is {})",
                status.as_str()
            )
        } else {
            continue;
        };
        refused.insert(field.to_string(), vec![reason]);
    }
    if refused.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = refused.keys().map(String::as_str).collect();
    Err(AppError::Conflict {
        detail: format!(
            "Invoice {id} is {}; these fields cannot change: {}.",
            status.as_str(),
            names.join(", ")
        ),
        field_errors: refused,
    })
}

/// Refuses deleting anything but a draft: an issued invoice is a document the customer
/// holds, and it is voided instead, so it stays on record.
pub(crate) fn check_delete(id: i64, status: InvoiceStatus) -> Result<(), AppError> {
    if status == InvoiceStatus::Draft {
        return Ok(());
    }
    Err(AppError::conflict(format!(
        "Invoice {id} is {}; only a draft can be deleted. Void it instead, which keeps it on record.",
        status.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes_and_items() -> InvoiceChanges {
        InvoiceChanges {
            notes: Some(None),
            lines: Some(vec![]),
            ..InvoiceChanges::default()
        }
    }

    #[test]
    fn a_draft_takes_every_change() {
        assert!(check_changes(1, InvoiceStatus::Draft, Money::ZERO, &notes_and_items()).is_ok());
        assert!(check_delete(1, InvoiceStatus::Draft).is_ok());
    }

    #[test]
    fn a_sent_invoice_takes_notes_and_due_date_until_something_is_applied() {
        let due = InvoiceChanges {
            due_date: NaiveDate::from_ymd_opt(2024, 3, 1),
            notes: Some(Some("Net 45".into())),
            ..InvoiceChanges::default()
        };
        assert!(check_changes(1, InvoiceStatus::Sent, Money::ZERO, &due).is_ok());
        let paid_some = check_changes(1, InvoiceStatus::Sent, Money::from_minor(1), &due);
        let Err(AppError::Conflict { field_errors, .. }) = paid_some else {
            panic!("{paid_some:?}")
        };
        assert_eq!(
            field_errors.keys().collect::<Vec<_>>(),
            ["due_date", "notes"]
        );
        for status in [
            InvoiceStatus::PartiallyPaid,
            InvoiceStatus::Paid,
            InvoiceStatus::Void,
        ] {
            assert!(check_changes(1, status, Money::ZERO, &due).is_err());
        }
    }

    #[test]
    fn an_issued_invoice_refuses_other_fields_by_name_and_says_what_to_do() {
        let refused =
            check_changes(7, InvoiceStatus::Sent, Money::ZERO, &notes_and_items()).unwrap_err();
        let AppError::Conflict {
            detail,
            field_errors,
        } = refused
        else {
            panic!("not a conflict")
        };
        assert_eq!(
            detail,
            "Invoice 7 is sent; these fields cannot change: items."
        );
        assert!(field_errors["items"][0].contains("issue a credit note"));
        assert!(!field_errors.contains_key("notes"));
        let deleted = check_delete(7, InvoiceStatus::Sent).unwrap_err();
        assert!(deleted.to_string().contains("Void it instead"), "{deleted}");
    }

    #[test]
    fn a_new_issue_date_or_customer_derives_the_due_date_again_unless_one_is_given() {
        let issue = NaiveDate::from_ymd_opt(2024, 2, 1);
        let moved = InvoiceChanges {
            issue_date: issue,
            ..InvoiceChanges::default()
        };
        assert!(moved.rederives_due_date());
        let both = InvoiceChanges {
            issue_date: issue,
            due_date: issue,
            ..InvoiceChanges::default()
        };
        assert!(!both.rederives_due_date());
        assert!(!notes_and_items().rederives_due_date());
    }
}
