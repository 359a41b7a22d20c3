//! The scope each operation needs, in one table a test walks over every operation of the
//! spec. Handlers ask for theirs by operation id; an id missing here needs `admin`, so a
//! forgotten entry fails closed (and the test names it).

use crate::domain::keys::Scope;

/// (operation id, the least scope that may call it), for every operation behind a key.
pub const OPERATION_SCOPES: [(&str, Scope); 52] = [
    ("ping", Scope::Read),
    ("get_organization", Scope::Read),
    ("update_organization", Scope::Admin),
    ("list_customers", Scope::Read),
    ("get_customer", Scope::Read),
    ("create_customer", Scope::Write),
    ("update_customer", Scope::Write),
    ("delete_customer", Scope::Write),
    ("customer_statement", Scope::Read),
    ("email_customer_statement", Scope::Write),
    ("list_invoices", Scope::Read),
    ("get_invoice", Scope::Read),
    ("get_invoice_pdf", Scope::Read),
    ("create_invoice", Scope::Write),
    ("preview_invoice", Scope::Write),
    ("update_invoice", Scope::Write),
    ("delete_invoice", Scope::Write),
    ("send_invoice", Scope::Write),
    ("void_invoice", Scope::Write),
    ("write_off_invoice", Scope::Write),
    ("reverse_write_off", Scope::Write),
    ("list_payments", Scope::Read),
    ("get_payment", Scope::Read),
    ("create_payment", Scope::Write),
    ("allocate_payment", Scope::Write),
    ("void_payment", Scope::Write),
    ("refund_payment", Scope::Write),
    ("list_credit_notes", Scope::Read),
    ("get_credit_note", Scope::Read),
    ("create_credit_note", Scope::Write),
    ("allocate_credit_note", Scope::Write),
    ("void_credit_note", Scope::Write),
    ("refund_credit_note", Scope::Write),
    ("aging_report", Scope::Read),
    ("dashboard_report", Scope::Read),
    ("list_events", Scope::Read),
    ("customer_history", Scope::Read),
    ("invoice_history", Scope::Read),
    ("payment_history", Scope::Read),
    ("credit_note_history", Scope::Read),
    ("create_webhook_endpoint", Scope::Admin),
    ("list_webhook_endpoints", Scope::Admin),
    ("get_webhook_endpoint", Scope::Admin),
    ("update_webhook_endpoint", Scope::Admin),
    ("delete_webhook_endpoint", Scope::Admin),
    ("list_webhook_deliveries", Scope::Admin),
    ("retry_webhook_delivery", Scope::Admin),
    ("list_api_keys", Scope::Admin),
    ("get_api_key", Scope::Admin),
    ("create_api_key", Scope::Admin),
    ("revoke_api_key", Scope::Admin),
    ("create_backup", Scope::Admin),
];

/// The scope `operation_id` needs.
pub fn scope_of(operation_id: &str) -> Scope {
    OPERATION_SCOPES
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map_or(Scope::Admin, |(_, scope)| *scope)
}
