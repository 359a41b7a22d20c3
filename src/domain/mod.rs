//! Pure business rules: no HTTP, no SQL.

pub(crate) mod aging;
pub(crate) mod credit_note;
pub(crate) mod dates;
pub mod detail;
pub(crate) mod display;
pub(crate) mod invoice;
pub(crate) mod invoice_changes;
// The ledger rules land ahead of the routes that use them (issue 10, one slice at a time).
pub mod keys;
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod ledger;
pub(crate) mod money;
pub(crate) mod payment;
pub(crate) mod text;
pub(crate) mod write_off;
