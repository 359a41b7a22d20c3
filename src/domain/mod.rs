//! Pure business rules: no HTTP, no SQL.

pub(crate) mod aging;
pub(crate) mod aging_terms;
pub(crate) mod credit_note;
pub(crate) mod currency;
pub(crate) mod dates;
pub mod detail;
pub(crate) mod display;
pub(crate) mod invoice;
pub(crate) mod invoice_changes;
pub mod journal;
pub mod keys;
pub(crate) mod kpis;
pub(crate) mod ledger;
pub(crate) mod mailing;
pub(crate) mod money;
pub(crate) mod paper;
pub(crate) mod payment;
pub(crate) mod statement;
pub(crate) mod text;
pub(crate) mod webhook;
pub(crate) mod write_off;
