//! Pure business rules: no HTTP, no SQL.

pub mod aging;
pub mod dates;
pub mod detail;
pub mod display;
pub mod invoice;
pub mod keys;
pub mod money;
pub mod payment;
pub mod text;
