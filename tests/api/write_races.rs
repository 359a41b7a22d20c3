//! The guarantees that a single writer gives for free, under real concurrency: on SQLite
//! the writer takes these requests one at a time; on PostgreSQL (the same tests, with
//! `ARVALOX_TEST_DATABASE_URL` set) they run on a pool of connections at once, where a
//! port without locks loses updates (see `../shared/design/postgres.md`, section 4).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Runs `count` copies of `request` at once and answers each one's (status, body).
async fn at_once<F, Fut>(app: &Arc<TestApp>, count: usize, request: F) -> Vec<(u16, Value)>
where
    F: Fn(Arc<TestApp>, usize) -> Fut,
    Fut: std::future::Future<Output = crate::helpers::Reply> + Send + 'static,
{
    let tasks: Vec<_> = (0..count)
        .map(|n| tokio::spawn(request(app.clone(), n)))
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        answers.push((reply.status.as_u16(), reply.body));
    }
    answers
}

fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_allocations_never_overallocate_one_invoice() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "120.00", "2024-01-05", "2024-03-01")
        .await;
    // 200 payments of 1.00 each, held as credit, then all allocated to the one invoice at once.
    let mut payments = Vec::new();
    for _ in 0..200 {
        let paid = app
            .post(
                "/v1/payments",
                json!({ "customer_id": acme, "amount": "1.00", "payment_method": "cash", "payment_date": "2024-01-20" }),
            )
            .await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        payments.push(paid.body["id"].as_i64().unwrap());
    }
    let payments = Arc::new(payments);
    let answers = at_once(&app, 200, |app, n| {
        let payment = payments[n];
        async move {
            app.post(
                &format!("/v1/payments/{payment}/allocations"),
                json!({ "allocations": [{ "invoice_id": invoice, "amount": "1.00" }], "applied_date": "2024-02-01" }),
            )
            .await
        }
    })
    .await;
    let taken = answers.iter().filter(|(s, _)| *s < 300).count();
    assert_eq!(
        taken,
        120,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .all(|(s, _)| *s < 300 || (400..500).contains(s)));
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    assert_eq!(detail["amount_paid"], "120.00");
    assert_eq!(detail["balance_due"], "0.00");
    assert_eq!(detail["status"], "paid");
    app.assert_sums_match();
    app.assert_summaries_match();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_allocations_never_overapply_one_credit() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let mut invoices = Vec::new();
    for _ in 0..40 {
        invoices.push(app.invoice(acme, "10.00", "2024-01-05", "2024-03-01").await);
    }
    let credit = app
        .post(
            "/v1/payments",
            json!({ "customer_id": acme, "amount": "75.00", "payment_method": "cash", "payment_date": "2024-01-20" }),
        )
        .await;
    let payment = credit.body["id"].as_i64().unwrap();
    let invoices = Arc::new(invoices);
    // Five requests for each invoice, 2.50 each: 30 of them fit in 75.00.
    let answers = at_once(&app, 200, |app, n| {
        let invoice = invoices[n % 40];
        async move {
            app.post(
                &format!("/v1/payments/{payment}/allocations"),
                json!({ "allocations": [{ "invoice_id": invoice, "amount": "2.50" }], "applied_date": "2024-02-01" }),
            )
            .await
        }
    })
    .await;
    assert_eq!(answers.iter().filter(|(s, _)| *s < 300).count(), 30);
    let detail = app.get(&format!("/v1/payments/{payment}")).await.body;
    assert_eq!(detail["unapplied_amount"], "0.00", "{detail}");
    app.assert_sums_match();
    app.assert_summaries_match();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_idempotent_retries_write_once() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-05", "2024-03-01")
        .await;
    let body = json!({"customer_id": acme, "invoice_id": invoice, "amount": "25.00", "payment_method": "cash"}).to_string();
    let body = Arc::new(body);
    let answers = at_once(&app, 100, |app, _| {
        let body = body.clone();
        async move {
            app.post_raw("/v1/payments", &[("Idempotency-Key", "pay-once")], &body)
                .await
        }
    })
    .await;
    assert_eq!(
        count(&answers, 201),
        100,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let ids: BTreeSet<String> = answers.iter().map(|(_, b)| b["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(answers.iter().all(|(_, b)| *b == answers[0].1));
    assert_eq!(app.get("/v1/payments").await.body["total"], 1);
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    assert_eq!(detail["amount_paid"], "25.00");
    app.assert_sums_match();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_number_invoices_without_gaps() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    // A third of the requests are refused (a line without a price) after the others began.
    let answers = at_once(&app, 150, |app, n| async move {
        let price = if n % 3 == 0 { json!(null) } else { json!("5.00") };
        app.post(
            "/v1/invoices",
            json!({ "customer_id": acme, "issue_date": "2024-02-01", "items": [{ "description": "Work", "quantity": 1, "unit_price": price }] }),
        )
        .await
    })
    .await;
    assert_eq!(count(&answers, 201), 100);
    let numbers: BTreeSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b["invoice_number"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = (1..=100).map(|n| format!("INV-2024-{n:05}")).collect();
    assert_eq!(numbers, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_answered_write_is_in_every_later_read() {
    let app = Arc::new(TestApp::new().await);
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "1000.00", "2024-01-05", "2024-03-01")
        .await;
    let answers = at_once(&app, 64, |app, _| async move {
        let paid = app.pay(acme, invoice, "1.00", "2024-01-20").await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        let id = paid.body["id"].as_i64().unwrap();
        // Read right after the answer, on whatever connection: the payment is there, and so
        // is its effect on the invoice.
        let read = app.get(&format!("/v1/payments/{id}")).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let detail = app.get(&format!("/v1/invoices/{invoice}")).await;
        let paid_so_far: f64 = detail.body["amount_paid"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(paid_so_far >= 1.0, "{}", detail.body);
        read
    })
    .await;
    assert_eq!(count(&answers, 200), 64);
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    assert_eq!(detail["amount_paid"], "64.00");
    app.assert_sums_match();
}

/// On PostgreSQL, writes to different organizations run side by side: a write to one
/// organization answers while another organization's write transaction is still open (on
/// SQLite's single writer it would wait, so the test is PostgreSQL's). A second write to
/// the held organization waits its turn and answers once the first ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_to_one_organization_does_not_wait_for_another() {
    let app = Arc::new(TestApp::new().await);
    if app.state.db.file().is_some() {
        return;
    }
    let other_key = app.new_key("other", arvalox::domain::keys::Scope::Admin);
    let held = app.get("/v1/organization").await.body["id"]
        .as_i64()
        .unwrap();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (started, is_started) = tokio::sync::oneshot::channel::<()>();
    // Shared, as a write's closure is cloned (PostgreSQL may run it again).
    let (started, released) = (
        Arc::new(std::sync::Mutex::new(Some(started))),
        Arc::new(std::sync::Mutex::new(released)),
    );
    let holder = {
        let db = app.state.db.clone();
        tokio::spawn(async move {
            db.write(arvalox::db::WriteScope::Organization(held), move |_tx| {
                if let Some(started) = started.lock().unwrap().take() {
                    let _ = started.send(());
                }
                released.lock().unwrap().recv().ok();
                Ok(())
            })
            .await
        })
    };
    is_started.await.unwrap();
    let waiting = {
        let app = app.clone();
        tokio::spawn(async move {
            app.post("/v1/customers", json!({ "name": "Waits its turn" }))
                .await
        })
    };
    let body = json!({ "name": "Writes meanwhile" }).to_string();
    let other = app.call(
        poem::http::Method::POST,
        "/v1/customers",
        Some(&other_key),
        &[("content-type", "application/json")],
        Some(&body),
    );
    // A guard against a hang, not a measure: under one lock for the whole book this
    // write would wait forever for the held one.
    let other = tokio::time::timeout(std::time::Duration::from_secs(60), other)
        .await
        .expect("the other organization's write waited for the held one");
    assert_eq!(other.status, 201, "{}", other.body);
    assert!(!waiting.is_finished(), "the held organization's write ran");
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    let waited = waiting.await.unwrap();
    assert_eq!(waited.status, 201, "{}", waited.body);
    assert_eq!(waited.body["name"], "Waits its turn");
}

/// On PostgreSQL, a write that loses a deadlock is run again, not answered 503. Another
/// session locks the invoice's row, the payment (holding its organization's write lock)
/// waits for that row, and the session then asks for the organization's write lock: a
/// cycle. PostgreSQL breaks it by failing the transaction that waited first, the
/// payment's; the engine runs the payment again, which answers once the session ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_that_loses_a_deadlock_is_run_again() {
    let app = Arc::new(TestApp::new().await);
    let (Some(session), Some(watcher)) = (app.postgres_client().await, app.postgres_client().await)
    else {
        return;
    };
    let org = app.get("/v1/organization").await.body["id"]
        .as_i64()
        .unwrap();
    let acme = app.customer("Acme").await;
    let invoice = app
        .invoice(acme, "100.00", "2024-01-05", "2024-03-01")
        .await;
    let deadlocks_before = deadlocks(&watcher).await;
    // The session waits long enough that PostgreSQL's check finds the cycle from the
    // payment's side, not from this one's.
    session
        .batch_execute("SET deadlock_timeout = '60s'; BEGIN")
        .await
        .unwrap();
    session
        .query_one(
            "/* test check */ SELECT id FROM invoices WHERE organization_id = $1 AND id = $2 FOR UPDATE",
            &[&org, &invoice],
        )
        .await
        .unwrap();
    let paying = {
        let app = app.clone();
        tokio::spawn(async move { app.pay(acme, invoice, "40.00", "2024-02-01").await })
    };
    wait_until(&watcher, "the payment waits for the invoice's row", |waiting| waiting > 0, async |client| {
        let row = client
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    })
    .await;
    // The organization's write lock: class and key as `db::pg_book` takes it.
    let organization_lock = format!("SELECT pg_advisory_xact_lock({}, {org})", 0x4156_4f52);
    session.batch_execute(&organization_lock).await.expect(
        "the session was failed for the deadlock, not the payment: PostgreSQL checks a wait \
         once, after deadlock_timeout (1 s), and the payment's check ran before the cycle closed",
    );
    session.batch_execute("ROLLBACK").await.unwrap();
    let paid = paying.await.unwrap();
    assert_eq!(paid.status, 201, "{}", paid.body);
    let detail = app.get(&format!("/v1/invoices/{invoice}")).await.body;
    assert_eq!(detail["amount_paid"], "40.00");
    assert_eq!(detail["status"], "partially_paid");
    let payments = app
        .get(&format!("/v1/payments?invoice_id={invoice}"))
        .await
        .body;
    assert_eq!(payments["total"], 1, "{payments}");
    // The cycle was real: PostgreSQL counted the deadlock it broke.
    wait_until(
        &watcher,
        "PostgreSQL counts the deadlock",
        |seen| seen > deadlocks_before,
        async |client| deadlocks(client).await,
    )
    .await;
    app.assert_sums_match();
    app.assert_summaries_match();
}

/// Deadlocks PostgreSQL has broken in this database, as its statistics have them now.
async fn deadlocks(client: &tokio_postgres::Client) -> i64 {
    client
        .batch_execute("SELECT pg_stat_clear_snapshot()")
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .unwrap();
    row.get(0)
}

/// Asks `read` again every 50 ms until `done` holds of its answer; fails after a minute
/// (a guard against a hang, not a measure).
async fn wait_until(
    client: &tokio_postgres::Client,
    what: &str,
    done: impl Fn(i64) -> bool,
    read: impl AsyncFn(&tokio_postgres::Client) -> i64,
) {
    for _ in 0..1200 {
        if done(read(client).await) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("waited a minute for this, in vain: {what}");
}
