//! HTTP: the only module that knows poem. One submodule per resource.

pub mod admin;
pub(crate) mod aging_answer;
pub(crate) mod aging_held;
pub(crate) mod aging_terms;
pub(crate) mod answer;
pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod credit_notes;
pub(crate) mod credit_use;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod error;
pub(crate) mod etag;
pub(crate) mod export;
pub(crate) mod idempotency;
pub(crate) mod invoices;
pub mod journal;
pub mod keycache;
pub(crate) mod keys;
pub(crate) mod kpis;
pub(crate) mod mailing;
pub(crate) mod messages;
pub(crate) mod middleware;
pub(crate) mod organization;
pub(crate) mod paging;
pub(crate) mod payments;
pub(crate) mod rate_limit;
pub(crate) mod reports;
pub mod scopes;
pub(crate) mod spec;
mod spec_rules;
pub(crate) mod statements;
pub(crate) mod types;
pub mod webhooks;

pub(crate) use answer::to_json_text;
pub(crate) use answer::{Created, CreatedOne, Deleted, Done, Json, JsonText, One};
pub(crate) use app::{api_service, Tag};
pub use app::{build_app, with_middleware, AppState};
pub(crate) use idempotency::Post;
pub(crate) use paging::page_bounds;
pub use spec::spec_json;

#[cfg(test)]
mod tests {
    use poem_openapi::types::{Example, ToJSON};
    use serde::Serialize;

    /// Answers are written by serde but documented by poem-openapi: both must agree.
    fn assert_serde_matches_spec<T: Serialize + ToJSON>(value: T) {
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            value.to_json().unwrap(),
            "{}",
            std::any::type_name::<T>()
        );
    }

    #[test]
    fn serde_answers_match_the_documented_json() {
        assert_serde_matches_spec(super::customers::Customer::example());
        assert_serde_matches_spec(super::payments::Payment::example());
        assert_serde_matches_spec(super::keys::Ping::example());
        let mut invoice = super::invoices::Invoice::example();
        assert!(invoice.payments.is_some());
        invoice.notes = Some("Net 30, \"quoted\" — ünïcode".into());
        assert_serde_matches_spec(invoice.clone());
        invoice.payments = None;
        invoice.notes = None;
        assert_serde_matches_spec(invoice.clone());
        for status in [
            super::invoices::Status::Draft,
            super::invoices::Status::Sent,
            super::invoices::Status::PartiallyPaid,
            super::invoices::Status::Paid,
            super::invoices::Status::Void,
        ] {
            assert_serde_matches_spec(status);
        }
    }
}
