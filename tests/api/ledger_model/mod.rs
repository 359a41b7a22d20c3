//! Property test: random sequences of receivables events against a plain reference model
//! written from the README's definitions (a list of dated events, replayed), never from
//! the server's code. Each case runs through real HTTP in an organization of its own on
//! one shared file. `PROPTEST_CASES` runs more cases than the default.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use arvalox::domain::keys::Scope;
use chrono::{Days, NaiveDate};
use poem::http::Method;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TODAY};

mod case;
mod model;

use case::Case;
use model::Model;

/// Days before TODAY events fall on: backdating and same-day collisions are common.
const WINDOW: u64 = 12;

fn day(offset: u64) -> NaiveDate {
    let today: NaiveDate = TODAY.parse().unwrap();
    today - Days::new(WINDOW - offset.min(WINDOW))
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn minor(text: &Value) -> i64 {
    let text = text.as_str().unwrap();
    let (whole, cents) = text.split_once('.').unwrap();
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    whole.trim_start_matches('-').parse::<i64>().unwrap() * 100 * sign
        + cents.parse::<i64>().unwrap() * sign
}

#[derive(Debug, Clone)]
enum How {
    Invoice(usize),
    Split(Vec<(usize, i64)>),
    Oldest,
    OnAccount,
}

#[derive(Debug, Clone)]
enum Op {
    Invoice {
        customer: usize,
        total: i64,
        issue: u64,
        draft: bool,
    },
    /// A draft changed whole (`total` and `issue` date), sent, deleted; an invoice voided.
    Draft {
        invoice: usize,
        change: DraftChange,
    },
    Pay {
        customer: usize,
        amount: i64,
        date: u64,
        how: How,
    },
    CreditNote {
        customer: usize,
        amount: i64,
        date: u64,
        invoice: Option<usize>,
    },
    Allocate {
        source: usize,
        date: u64,
        how: How,
    },
    Refund {
        source: usize,
        amount: i64,
        date: u64,
    },
    Void {
        source: usize,
        date: u64,
    },
    WriteOff {
        invoice: usize,
        amount: Option<i64>,
        date: u64,
    },
    Reverse {
        write_off: usize,
        date: u64,
    },
}

#[derive(Debug, Clone)]
enum DraftChange {
    Edit { total: i64, issue: u64 },
    Send,
    Delete,
    Void,
}

fn op() -> impl Strategy<Value = Op> {
    let how = prop_oneof![
        (0usize..4).prop_map(How::Invoice),
        prop::collection::vec((0usize..4, 1i64..500), 1..3).prop_map(How::Split),
        Just(How::Oldest),
        Just(How::OnAccount),
    ];
    prop_oneof![
        3 => (0usize..2, 1i64..500, 0u64..=WINDOW, prop::bool::weighted(0.3))
            .prop_map(|(customer, total, issue, draft)| Op::Invoice { customer, total, issue, draft }),
        2 => (0usize..4, prop_oneof![
                (1i64..500, 0u64..=WINDOW).prop_map(|(total, issue)| DraftChange::Edit { total, issue }),
                Just(DraftChange::Send),
                Just(DraftChange::Delete),
                Just(DraftChange::Void),
            ])
            .prop_map(|(invoice, change)| Op::Draft { invoice, change }),
        4 => (0usize..2, 1i64..500, 0u64..=WINDOW, how.clone())
            .prop_map(|(customer, amount, date, how)| Op::Pay { customer, amount, date, how }),
        2 => (0usize..2, 1i64..300, 0u64..=WINDOW, prop::option::of(0usize..4))
            .prop_map(|(customer, amount, date, invoice)| Op::CreditNote { customer, amount, date, invoice }),
        3 => (0usize..4, 0u64..=WINDOW, how)
            .prop_map(|(source, date, how)| Op::Allocate { source, date, how }),
        1 => (0usize..4, 1i64..300, 0u64..=WINDOW)
            .prop_map(|(source, amount, date)| Op::Refund { source, amount, date }),
        2 => (0usize..4, 0u64..=WINDOW).prop_map(|(source, date)| Op::Void { source, date }),
        2 => (0usize..4, prop::option::of(1i64..300), 0u64..=WINDOW)
            .prop_map(|(invoice, amount, date)| Op::WriteOff { invoice, amount, date }),
        1 => (0usize..2, 0u64..=WINDOW).prop_map(|(write_off, date)| Op::Reverse { write_off, date }),
    ]
}

fn shared() -> &'static (tokio::runtime::Runtime, TestApp) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let app = runtime.block_on(TestApp::new());
        (runtime, app)
    })
}

proptest! {
    // 256 cases by default; PROPTEST_CASES sets another number.
    #[test]
    fn every_report_at_every_date_equals_the_replayed_events(ops in prop::collection::vec(op(), 1..40)) {
        static CASE: AtomicUsize = AtomicUsize::new(0);
        let (runtime, app) = shared();
        runtime.block_on(async {
            let org = format!("model-{}", CASE.fetch_add(1, Ordering::Relaxed));
            let key = app.new_key(&org, Scope::Write);
            let mut case = Case { app, key, model: Model::default() };
            for name in ["Acme", "Globex"] {
                let (status, body) = case.post("/v1/customers", json!({ "name": name })).await;
                assert_eq!(status, 201, "{body}");
                case.model.customers.push(body["id"].as_i64().unwrap());
            }
            for op in &ops {
                case.run(op).await;
            }
            case.check().await;
        });
        app.assert_summaries_match();
        app.assert_sums_match();
    }
}
