//! Integration tests: the real HTTP stack over a real SQLite file in a temp dir.
//! One test binary (modules below) so the suite links once.

// The crate's panic lints are for the server; a test's helpers may unwrap and index (a
// failed assumption there is a failed test). clippy.toml covers `#[test]` functions only.
// Tests also read the machine's clock, to check the server's against it; a scenario test
// may run longer than the 80 lines a server function is held to.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod aging_terms;
mod auth;
mod backup;
mod backup_safety;
mod binary;
mod console;
mod contract;
mod crashes;
mod credit;
mod credit_notes;
mod credit_races;
mod currency;
mod customers;
mod dates;
mod details;
mod documents;
mod drafts;
mod email;
mod email_cli;
mod email_races;
mod errors;
mod etag;
mod exports;
mod faults;
mod fuzz;
mod helpers;
mod invoices;
mod journal;
mod kpis;
mod ledger_model;
mod metrics;
mod migrations;
mod no_op_updates;
mod operator_cli;
mod organization;
mod payments;
mod postgres;
mod postgres_commands;
mod postgres_schema;
mod postgres_statements;
mod postgres_transfer;
mod reports;
mod scopes;
mod seed;
mod slow_clients;
mod smtp_sink;
mod snapshots;
mod spec;
mod startup;
mod statements;
mod stray_input;
mod upgrades;
mod verify;
mod webhooks;
mod wire;
mod write_offs;
mod write_races;
