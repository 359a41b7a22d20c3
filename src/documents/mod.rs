//! Documents people receive: invoices (and statements) as printable PDFs. They are drawn
//! from figures the API has already written out, so a document shows the same text as the
//! JSON answer. Depends on nothing else in the crate; the API fills the sheets.

pub(crate) mod invoice;
pub(crate) mod layout;
pub(crate) mod statement;
