//! ETag, If-None-Match and If-Match (issue 11, section 4): every answer that is one
//! resource carries a strong ETag that changes with the answer; a GET naming the current
//! one is a 304; a change naming an old one is a 412 that changes nothing, and of two
//! clients racing one edit exactly one wins.

use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let body = body.map(|b| b.to_string());
    app.call(method, path, Some(&app.key), headers, body.as_deref())
        .await
}

fn etag(reply: &Reply) -> String {
    reply.header("etag").expect("an ETag").to_string()
}

#[tokio::test]
async fn a_get_names_its_version_and_answers_304_while_it_holds() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let path = format!("/v1/customers/{acme}");
    let first = app.get(&path).await;
    let tag = etag(&first);
    assert!(tag.starts_with('"') && tag.len() == 34, "{tag}");
    let same = call(&app, Method::GET, &path, &[("If-None-Match", &tag)], None).await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert_eq!(same.body, Value::Null);
    assert_eq!(etag(&same), tag);
    assert!(same.header("x-ratelimit-limit").is_some() || same.header("x-request-id").is_some());

    let renamed = app.put(&path, json!({"name": "Acme Ltd"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    let new_tag = etag(&renamed);
    assert_ne!(new_tag, tag);
    let changed = call(&app, Method::GET, &path, &[("If-None-Match", &tag)], None).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body["name"], "Acme Ltd");
    assert_eq!(etag(&changed), new_tag);
}

#[tokio::test]
async fn a_change_to_an_old_version_is_412_and_changes_nothing() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let path = format!("/v1/invoices/{inv}");
    let read = etag(&app.get(&path).await);
    let events_before = app.get("/v1/events").await.body["items"]
        .as_array()
        .unwrap()
        .len();

    // Someone else pays first: the invoice the client read is no longer the current one.
    assert_eq!(
        app.pay(acme, inv, "10.00", "2024-02-01").await.status,
        StatusCode::CREATED
    );
    let stale = call(
        &app,
        Method::POST,
        &format!("{path}/write-offs"),
        &[("If-Match", &read)],
        Some(json!({"write_off_date": "2024-02-10", "reason": "Bankrupt"})),
    )
    .await;
    stale.assert_error(412, "PRECONDITION_FAILED");
    let current = app.get(&path).await;
    assert_eq!(current.body["amount_written_off"], "0.00");
    let events = app.get("/v1/events").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, events_before + 2, "only the payment's events");

    let fresh = etag(&current);
    let written = call(
        &app,
        Method::POST,
        &format!("{path}/write-offs"),
        &[("If-Match", &fresh)],
        Some(json!({"write_off_date": "2024-02-10", "reason": "Bankrupt"})),
    )
    .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert_eq!(etag(&written), etag(&app.get(&path).await));

    let any = call(
        &app,
        Method::PUT,
        &format!("/v1/customers/{acme}"),
        &[("If-Match", "*")],
        Some(json!({"notes": "x"})),
    )
    .await;
    assert_eq!(any.status, StatusCode::OK);
    let malformed = call(
        &app,
        Method::PUT,
        &format!("/v1/customers/{acme}"),
        &[("If-Match", "abc")],
        Some(json!({"notes": "y"})),
    )
    .await;
    let fields = malformed.assert_error(400, "VALIDATION_ERROR");
    assert!(fields.get("If-Match").is_some(), "{fields}");
    let weak = format!(
        "W/{}",
        etag(&app.get(&format!("/v1/customers/{acme}")).await)
    );
    let weak = call(
        &app,
        Method::PUT,
        &format!("/v1/customers/{acme}"),
        &[("If-Match", &weak)],
        Some(json!({"notes": "z"})),
    )
    .await;
    weak.assert_error(412, "PRECONDITION_FAILED");
}

#[tokio::test]
async fn write_answers_carry_the_etag_their_get_gives() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let draft = app
        .post(
            "/v1/invoices",
            json!({"customer_id": acme, "status": "draft", "issue_date": "2024-01-05",
                   "items": [{"description": "Work", "quantity": 1, "unit_price": "80.00"}]}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.body);
    let inv = draft.body["id"].as_i64().unwrap();
    assert_eq!(
        etag(&draft),
        etag(&app.get(&format!("/v1/invoices/{inv}")).await)
    );
    let sent = call(
        &app,
        Method::POST,
        &format!("/v1/invoices/{inv}/send"),
        &[("If-Match", &etag(&draft))],
        None,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(
        etag(&sent),
        etag(&app.get(&format!("/v1/invoices/{inv}")).await)
    );

    let paid = app
        .post(
            "/v1/payments",
            json!({"customer_id": acme, "amount": "100.00", "payment_method": "cash", "payment_date": "2024-02-01"}),
        )
        .await;
    let payment = paid.body["id"].as_i64().unwrap();
    assert_eq!(
        etag(&paid),
        etag(&app.get(&format!("/v1/payments/{payment}")).await)
    );
    let allocated = call(
        &app,
        Method::POST,
        &format!("/v1/payments/{payment}/allocations"),
        &[("If-Match", &etag(&paid))],
        Some(json!({"applied_date": "2024-02-01", "allocations": [{"invoice_id": inv, "amount": "80.00"}]})),
    )
    .await;
    assert_eq!(allocated.status, StatusCode::OK, "{}", allocated.body);
    assert_eq!(
        etag(&allocated),
        etag(&app.get(&format!("/v1/payments/{payment}")).await)
    );
    let again = call(
        &app,
        Method::POST,
        &format!("/v1/payments/{payment}/refunds"),
        &[("If-Match", &etag(&paid))],
        Some(json!({"amount": "5.00", "payment_method": "cash", "refund_date": "2024-02-02"})),
    )
    .await;
    again.assert_error(412, "PRECONDITION_FAILED");
}

#[tokio::test]
async fn of_two_clients_racing_one_edit_exactly_one_wins() {
    let app = TestApp::new().await;
    for round in 0..5 {
        let acme = app.customer(&format!("Acme {round}")).await;
        let path = format!("/v1/customers/{acme}");
        let tag = etag(&app.get(&path).await);
        let guard = [("If-Match", tag.as_str())];
        let (one, two) = tokio::join!(
            call(
                &app,
                Method::PUT,
                &path,
                &guard,
                Some(json!({"notes": "first clerk"}))
            ),
            call(
                &app,
                Method::PUT,
                &path,
                &guard,
                Some(json!({"notes": "second clerk"}))
            ),
        );
        let mut statuses = [one.status.as_u16(), two.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        let winner = if one.status == StatusCode::OK {
            &one
        } else {
            &two
        };
        assert_eq!(app.get(&path).await.body["notes"], winner.body["notes"]);
        let history = app.get(&format!("{path}/history")).await.body;
        assert_eq!(
            history["items"].as_array().unwrap().len(),
            2,
            "round {round}"
        );
    }
}

/// A body that breaks the schema is a 400 whatever `If-Match` says: the client learns what
/// to fix before it is told to read the resource again (RFC 9110 §13.2.2 puts preconditions
/// after the request's own checks).
#[tokio::test]
async fn a_bad_body_is_400_before_a_stale_if_match_is_412() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let stale = "\"00000000000000000000000000000000\"";
    let customer = format!("/v1/customers/{acme}");
    let bad_currency = call(
        &app,
        Method::PUT,
        &customer,
        &[("If-Match", stale)],
        Some(json!({"currency": "__not_in_enum__", "is_active": false})),
    )
    .await;
    let fields = bad_currency.assert_error(400, "VALIDATION_ERROR");
    assert!(fields.get("currency").is_some(), "{fields}");
    assert_eq!(app.get(&customer).await.body["is_active"], true);

    let bad_days = call(
        &app,
        Method::PATCH,
        "/v1/organization",
        &[("If-Match", stale)],
        Some(json!({"default_payment_terms_days": -4})),
    )
    .await;
    let fields = bad_days.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields.get("default_payment_terms_days").is_some(),
        "{fields}"
    );

    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let invoice = format!("/v1/invoices/{inv}");
    // Each line fits; together they pass the largest amount an invoice can hold.
    let line = json!({"description": "Plant", "quantity": 1, "unit_price": "600000000000.00"});
    let too_large = call(
        &app,
        Method::PUT,
        &invoice,
        &[("If-Match", stale)],
        Some(json!({"items": [line, line]})),
    )
    .await;
    let fields = too_large.assert_error(400, "VALIDATION_ERROR");
    assert!(
        fields["items"][0]
            .as_str()
            .is_some_and(|m| m.starts_with("invoice total")),
        "{fields}"
    );
    let nobody = call(
        &app,
        Method::POST,
        &format!("{invoice}/send"),
        &[("If-Match", stale)],
        Some(json!({"email": {"to": []}})),
    )
    .await;
    let fields = nobody.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(fields["email.to"][0], "must name at least one address");
    assert_eq!(app.get(&invoice).await.body["total"], "100.00");

    // A good body with the same stale tag is still the 412.
    let good = call(
        &app,
        Method::PUT,
        &customer,
        &[("If-Match", stale)],
        Some(json!({"is_active": false})),
    )
    .await;
    good.assert_error(412, "PRECONDITION_FAILED");
}

/// A date after today is a fault of the body alone (today is known before anything is
/// read), so it too is the 400 before a stale `If-Match` is the 412, on every dated change
/// that takes one; with a date today, the same stale tag is the 412. Nothing is written.
#[tokio::test]
async fn a_future_date_is_400_before_a_stale_if_match_is_412() {
    let app = TestApp::new().await;
    let acme = app.customer("Acme").await;
    let inv = app
        .invoice(acme, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let written_off = app.invoice(acme, "40.00", "2024-01-05", "2024-01-20").await;
    let write_off = app
        .post(
            &format!("/v1/invoices/{written_off}/write-offs"),
            json!({"write_off_date": "2024-02-01", "reason": "Gone"}),
        )
        .await;
    let write_off_id = write_off.body["write_offs"][0]["id"].as_i64().unwrap();
    let payment = app
        .post(
            "/v1/payments",
            json!({"customer_id": acme, "amount": "30.00", "payment_method": "cash",
                   "payment_date": "2024-02-01"}),
        )
        .await;
    let payment_id = payment.body["id"].as_i64().unwrap();
    let source = format!("/v1/payments/{payment_id}");
    let note = app
        .post(
            "/v1/credit-notes",
            json!({"customer_id": acme, "issue_date": "2024-02-01", "reason": "Returned",
                   "items": [{"description": "Chair", "quantity": 1, "unit_price": "20.00"}]}),
        )
        .await;
    let note = format!("/v1/credit-notes/{}", note.body["id"].as_i64().unwrap());
    let mut changes = vec![
        (
            format!("/v1/invoices/{inv}/write-offs"),
            "write_off_date",
            json!({"reason": "Gone"}),
        ),
        (
            format!("/v1/invoices/{written_off}/write-offs/{write_off_id}/reverse"),
            "reverse_date",
            json!({"reason": "Paid after all"}),
        ),
        (
            format!("{source}/allocations"),
            "applied_date",
            json!({"allocations": [{"invoice_id": inv, "amount": "10.00"}]}),
        ),
        (
            format!("{source}/refunds"),
            "refund_date",
            json!({"amount": "5.00", "payment_method": "cash"}),
        ),
        (
            format!("{source}/void"),
            "void_date",
            json!({"reason": "Keyed twice"}),
        ),
    ];
    // A credit note's allocations, refunds and void take the same dates as a payment's.
    let on_note: Vec<_> = changes[2..]
        .iter()
        .map(|(route, field, body)| (route.replacen(&source, &note, 1), *field, body.clone()))
        .collect();
    changes.extend(on_note);
    let stale = [("If-Match", "\"00000000000000000000000000000000\"")];
    for (path, field, body) in changes {
        let mut future = body.clone();
        future[field] = json!("2024-03-02");
        let reply = call(&app, Method::POST, &path, &stale, Some(future)).await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(
            fields[field][0],
            "must not be after today (2024-03-01): record it on the day it happens",
            "{path}"
        );
        let mut today = body;
        today[field] = json!("2024-03-01");
        let reply = call(&app, Method::POST, &path, &stale, Some(today)).await;
        reply.assert_error(412, "PRECONDITION_FAILED");
    }
    assert_eq!(
        app.get(&format!("/v1/invoices/{inv}")).await.body["balance_due"],
        "100.00"
    );
    let unchanged = app.get(&source).await.body;
    assert_eq!(unchanged["unapplied_amount"], "30.00");
    assert_eq!(unchanged.get("void_date"), Some(&Value::Null));
    let unchanged = app.get(&note).await.body;
    assert_eq!(unchanged["unapplied_amount"], "20.00");
    assert_eq!(unchanged.get("void_date"), Some(&Value::Null));
    let reversed = app.get(&format!("/v1/invoices/{written_off}")).await.body;
    assert_eq!(
        reversed["write_offs"][0].get("reversed_date"),
        Some(&Value::Null)
    );
}

/// Without `to`, the customer's address is added when the mail is made; too many `cc` fail
/// whatever it is, so they are the 400 before a stale `If-Match` is the 412 (on an app that
/// can mail: without a mailer the send would stop at its own 409 first).
#[tokio::test]
async fn too_many_copies_are_400_before_a_stale_if_match_is_412() {
    let sink = crate::smtp_sink::Sink::plain();
    let app = crate::email::mailing_app(&sink).await;
    let globex = crate::email::customer_with_email(&app, Some("ap@globex.test")).await;
    let inv = app
        .invoice(globex, "100.00", "2024-01-05", "2024-01-20")
        .await;
    let path = format!("/v1/invoices/{inv}/send");
    let stale = [("If-Match", "\"00000000000000000000000000000000\"")];
    let copies: Vec<String> = (0..21).map(|n| format!("clerk{n}@acme.test")).collect();
    let crowded = json!({"email": {"cc": copies}});
    let reply = call(&app, Method::POST, &path, &stale, Some(crowded)).await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["email.to"][0],
        "`cc` alone names 21 addresses: at most 20 together with the customer's e-mail"
    );
    let fine = json!({"email": {"cc": ["clerk@acme.test"]}});
    let reply = call(&app, Method::POST, &path, &stale, Some(fine)).await;
    reply.assert_error(412, "PRECONDITION_FAILED");
    assert!(sink.inbox().is_empty(), "nothing was mailed");
}
