//! Arvalox: a self-hosted accounts-receivable server over one SQLite file.

pub mod api;
pub mod clock;
pub mod db;
pub mod domain;
pub mod error;
pub mod net;
pub mod ratelimit;
pub mod seed;
