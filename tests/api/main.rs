//! Integration tests: the real HTTP stack over a real SQLite file in a temp dir.
//! One test binary (modules below) so the suite links once.

mod auth;
mod binary;
mod contract;
mod customers;
mod dates;
mod details;
mod errors;
mod helpers;
mod invoices;
mod migrations;
mod payments;
mod reports;
mod seed;
mod snapshots;
mod spec;
mod wire;
