//! Pure business rules: no HTTP, no SQL.

pub(crate) mod aging;
pub(crate) mod dates;
pub mod detail;
pub(crate) mod display;
pub(crate) mod invoice;
pub mod keys;
pub(crate) mod money;
pub(crate) mod payment;
pub(crate) mod text;
