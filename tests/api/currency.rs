//! Currencies (issue 11, section 1): the organization's and each customer's ISO 4217
//! currency, whose minor units rule how amounts are stored, rounded, accepted and written,
//! and reports of one currency at a time.

use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

async fn patch(app: &TestApp, path: &str, body: Value) -> Reply {
    let text = body.to_string();
    app.call(Method::PATCH, path, Some(&app.key), &[], Some(&text))
        .await
}

async fn customer_in(app: &TestApp, name: &str, currency: &str) -> i64 {
    let reply = app
        .post("/v1/customers", json!({"name": name, "currency": currency}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["currency"], currency);
    reply.body["id"].as_i64().unwrap()
}

async fn invoice_of(app: &TestApp, customer: i64, items: Value) -> Reply {
    app.post(
        "/v1/invoices",
        json!({"customer_id": customer, "issue_date": "2024-02-01",
               "due_date": "2024-02-15", "items": items}),
    )
    .await
}

#[tokio::test]
async fn a_yen_book_has_no_decimals_and_its_currency_is_fixed_by_its_first_document() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/v1/organization").await.body["currency"], "USD");
    let yen = patch(&app, "/v1/organization", json!({"currency": "JPY"})).await;
    assert_eq!(yen.status, StatusCode::OK, "{}", yen.body);
    assert_eq!(yen.body["currency"], "JPY");

    let shop = app.customer("Tokyo Shop").await;
    let customer = app.get(&format!("/v1/customers/{shop}")).await.body;
    assert_eq!(customer["currency"], "JPY");
    assert_eq!(customer["outstanding_balance"], "0");

    // 3 × 0.5 = 1.5 yen rounds half away from zero to 2; tax 2 × 0.1 = 0.2 rounds to 0.
    let items = json!([
        {"description": "Tea", "quantity": 1, "unit_price": "1620"},
        {"description": "Sweets", "quantity": 3, "unit_price": "0.5", "tax_rate": "0.1"}
    ]);
    let invoice = invoice_of(&app, shop, items).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    assert_eq!(invoice.body["currency"], "JPY");
    assert_eq!(invoice.body["items"][0]["unit_price"], "1620");
    assert_eq!(invoice.body["items"][0]["line_total"], "1620");
    assert_eq!(invoice.body["items"][1]["line_subtotal"], "2");
    assert_eq!(invoice.body["items"][1]["line_tax"], "0");
    assert_eq!(invoice.body["total"], "1622");
    let id = invoice.body["id"].as_i64().unwrap();
    let detail = app.get(&format!("/v1/invoices/{id}")).await.body;
    assert_eq!(
        detail, invoice.body,
        "the stored detail copy is the same answer"
    );

    let fraction = app.pay(shop, id, "100.5", "2024-02-10").await;
    let fields = fraction.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["amount"][0],
        "must be a whole number: JPY has no decimal places"
    );
    let paid = app.pay(shop, id, "1000", "2024-02-10").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.body["amount"], "1000");
    assert_eq!(paid.body["currency"], "JPY");
    let after = app.get(&format!("/v1/invoices/{id}")).await.body;
    assert_eq!(after["balance_due"], "622");
    assert_eq!(after["payments"][0]["amount"], "1000");

    // Documents fix the currency: the books cannot be re-denominated under them.
    let refused = patch(&app, "/v1/organization", json!({"currency": "USD"})).await;
    let fields = refused.assert_error(409, "CONFLICT");
    assert!(fields["currency"][0]
        .as_str()
        .unwrap()
        .contains("can change only while it has none"));
    assert_eq!(app.get("/v1/organization").await.body["currency"], "JPY");
    let moved = app
        .put(&format!("/v1/customers/{shop}"), json!({"currency": "EUR"}))
        .await;
    moved.assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn a_dinar_customer_in_a_dollar_book_keeps_three_places() {
    let app = TestApp::new().await;
    let kuwait = customer_in(&app, "Kuwait Trading", "KWD").await;
    let items = json!([{"description": "Cable", "quantity": 3, "unit_price": "0.3335", "tax_rate": "0.05"}]);
    let invoice = invoice_of(&app, kuwait, items).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    // 3 × 0.3335 = 1.0005 → 1.001; tax 1.001 × 0.05 = 0.05005 → 0.050.
    assert_eq!(invoice.body["subtotal"], "1.001");
    assert_eq!(invoice.body["tax_total"], "0.050");
    assert_eq!(invoice.body["total"], "1.051");
    assert_eq!(invoice.body["currency"], "KWD");
    let id = invoice.body["id"].as_i64().unwrap();

    let too_fine = app.pay(kuwait, id, "0.0005", "2024-02-10").await;
    assert_eq!(
        too_fine.assert_error(400, "VALIDATION_ERROR")["amount"][0],
        "must have at most 3 decimal places in KWD"
    );
    let paid = app.pay(kuwait, id, "1.05", "2024-02-10").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    assert_eq!(paid.body["amount"], "1.050");
    let balance = app.get(&format!("/v1/invoices/{id}")).await.body["balance_due"].clone();
    assert_eq!(balance, "0.001");

    // A dollar customer of the same book still has two places.
    let local = app.customer("Local").await;
    let usd = app
        .invoice(local, "10.00", "2024-02-01", "2024-02-15")
        .await;
    let dollar = app.get(&format!("/v1/invoices/{usd}")).await.body;
    assert_eq!(
        (dollar["total"].clone(), dollar["currency"].clone()),
        (json!("10.00"), json!("USD"))
    );
}

#[tokio::test]
async fn every_bad_field_is_named_with_the_amount_in_its_currency() {
    let app = TestApp::new().await;
    let shop = customer_in(&app, "Osaka", "JPY").await;
    let invoice = invoice_of(
        &app,
        shop,
        json!([{"description": "x", "quantity": 1, "unit_price": 500}]),
    )
    .await;
    let id = invoice.body["id"].as_i64().unwrap();
    let reply = app
        .post(
            "/v1/payments",
            json!({"customer_id": shop, "invoice_id": id, "amount": "10.5",
                   "payment_method": "cash", "payment_date": "2024-02-31"}),
        )
        .await;
    let fields = reply.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        fields["amount"][0],
        "must be a whole number: JPY has no decimal places"
    );
    assert!(fields["payment_date"].is_array(), "{}", reply.body);

    let bad_codes = [
        ("usd", "must be written in upper case: USD"),
        ("ABC", "ABC is not an ISO 4217 currency code"),
        ("XAU", "XAU has no minor unit, so it cannot hold an invoice"),
        ("HRK", "HRK is no longer in use; it was replaced by EUR"),
    ];
    for (code, message) in bad_codes {
        let reply = app
            .post("/v1/customers", json!({"name": "X", "currency": code}))
            .await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert!(
            fields["currency"][0].as_str().unwrap().contains(message),
            "{code}: {}",
            reply.body
        );
    }
    let report = app.get("/v1/reports/aging?currency=EURO").await;
    assert!(report.assert_error(400, "VALIDATION_ERROR")["currency"].is_array());
    let limit = app
        .post(
            "/v1/customers",
            json!({"name": "Y", "currency": "JPY", "credit_limit": "100.5"}),
        )
        .await;
    assert!(limit.assert_error(400, "VALIDATION_ERROR")["credit_limit"].is_array());
}

#[tokio::test]
async fn reports_cover_one_currency_and_name_the_others() {
    let app = TestApp::new().await;
    let local = app.customer("Local").await;
    let usd = app
        .invoice(local, "100.00", "2024-02-01", "2024-02-15")
        .await;
    let shop = customer_in(&app, "Tokyo", "JPY").await;
    let yen = invoice_of(
        &app,
        shop,
        json!([{"description": "x", "quantity": 1, "unit_price": 5000}]),
    )
    .await;
    assert_eq!(yen.status, StatusCode::CREATED, "{}", yen.body);
    let paid = app
        .pay(shop, yen.body["id"].as_i64().unwrap(), "2000", "2024-02-20")
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let _ = usd;

    let aging = app.get("/v1/reports/aging?as_of=2024-03-01").await.body;
    assert_eq!(aging["currency"], "USD");
    assert_eq!(aging["currencies"], json!(["JPY"]));
    assert_eq!(aging["totals"]["total"], "100.00");
    assert_eq!(aging["customers"].as_array().unwrap().len(), 1);

    let in_yen = app
        .get("/v1/reports/aging?as_of=2024-03-01&currency=JPY")
        .await
        .body;
    assert_eq!(in_yen["currency"], "JPY");
    assert_eq!(in_yen["currencies"], json!(["USD"]));
    assert_eq!(in_yen["totals"]["total"], "3000");
    assert_eq!(in_yen["totals"]["days_1_30"], "3000");
    assert_eq!(in_yen["customers"][0]["customer_id"], shop);

    // One customer's report is in its own currency unless another is asked for.
    let own = app
        .get(&format!(
            "/v1/reports/aging?as_of=2024-03-01&customer_id={shop}"
        ))
        .await
        .body;
    assert_eq!(
        (own["currency"].clone(), own["totals"]["total"].clone()),
        (json!("JPY"), json!("3000"))
    );

    let dashboard = app.get("/v1/reports/dashboard?as_of=2024-03-01").await.body;
    assert_eq!(dashboard["currency"], "USD");
    assert_eq!(dashboard["total_outstanding"], "100.00");
    assert_eq!(dashboard["invoiced_last_30_days"], "100.00");
    assert_eq!(dashboard["collected_last_30_days"], "0.00");
    assert_eq!(dashboard["invoice_counts_by_status"]["sent"], 1);
    assert_eq!(dashboard["currencies"], json!(["JPY"]));
    let yen_board = app
        .get("/v1/reports/dashboard?as_of=2024-03-01&currency=JPY")
        .await
        .body;
    assert_eq!(yen_board["total_outstanding"], "3000");
    assert_eq!(yen_board["invoiced_last_30_days"], "5000");
    assert_eq!(yen_board["collected_last_30_days"], "2000");
    assert_eq!(yen_board["invoice_counts_by_status"]["partially_paid"], 1);
    assert_eq!(yen_board["invoice_counts_by_status"]["sent"], 0);

    // A currency nobody bills in is an empty report, not an error.
    let euro = app
        .get("/v1/reports/aging?as_of=2024-03-01&currency=EUR")
        .await
        .body;
    assert_eq!(euro["totals"]["total"], "0.00");
    assert_eq!(euro["currencies"], json!(["JPY", "USD"]));
    app.assert_summaries_match();
}

/// `keys create --currency` and `seed-demo --currency` give a new organization its
/// currency; the seeded book is written in it and verifies.
#[test]
fn the_command_line_gives_a_new_organization_its_currency() {
    let bin = env!("CARGO_BIN_EXE_arvalox");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let key = [
        "keys",
        "create",
        "--name",
        "y",
        "--org",
        "yen",
        "--currency",
    ];
    let (made, text) = run(&[&key[..], &["JPY"]].concat());
    assert!(made, "{text}");
    let (bad, text) = run(&[
        "keys",
        "create",
        "--name",
        "x",
        "--org",
        "gold",
        "--currency",
        "XAU",
    ]);
    assert!(!bad && text.contains("no minor unit"), "{text}");
    let seed = ["seed-demo", "--invoices", "60", "--customers", "4"];
    let (seeded, text) = run(&[&seed[..], &["--org", "dinar", "--currency", "KWD"]].concat());
    assert!(seeded, "{text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let currencies: Vec<(String, String)> = conn
        .prepare("SELECT slug, currency FROM organizations ORDER BY id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected = [("yen", "JPY"), ("dinar", "KWD")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(currencies, expected);
    let not_kwd: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM invoices WHERE currency <> 'KWD')
                  + (SELECT COUNT(*) FROM payments WHERE currency <> 'KWD')
                  + (SELECT COUNT(*) FROM credit_notes WHERE currency <> 'KWD')",
            (),
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(not_kwd, 0);
    let (verified, text) = run(&["verify"]);
    assert!(verified, "{text}");
}

/// Customers that follow the organization's currency move with it while the books are
/// empty, journaled (so `verify` still passes); a credit limit, an amount in the old
/// currency, stops the change rather than being converted at a rate nobody gave.
#[tokio::test]
async fn customers_following_the_organization_move_with_its_currency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ar.db");
    let today = "2024-03-01";
    let app = TestApp::on_file(dir, &path, arvalox::ratelimit::Limits::OFF, today).await;
    let limited = |name: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .post(
                    "/v1/customers",
                    json!({"name": name, "credit_limit": "500.00"}),
                )
                .await;
            reply.body["id"].as_i64().unwrap()
        }
    };
    let follower = limited("F").await;
    let other = limited("O").await;
    let euro = customer_in(&app, "E", "EUR").await;
    let refused = patch(&app, "/v1/organization", json!({"currency": "JPY"})).await;
    let fields = refused.assert_error(409, "CONFLICT");
    let message = fields["currency"][0].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Customer {follower} (and 1 more) follows the organization's currency and has a credit_limit of 500.00 USD"
        )),
        "{message}"
    );
    assert_eq!(app.get("/v1/organization").await.body["currency"], "USD");
    for id in [follower, other] {
        let cleared = app
            .put(
                &format!("/v1/customers/{id}"),
                json!({"credit_limit": null}),
            )
            .await;
        assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    }

    let moved = patch(&app, "/v1/organization", json!({"currency": "JPY"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let f = app.get(&format!("/v1/customers/{follower}")).await.body;
    assert_eq!(f["currency"], "JPY");
    let again = app
        .put(
            &format!("/v1/customers/{follower}"),
            json!({"credit_limit": "500"}),
        )
        .await;
    assert_eq!(again.body["credit_limit"], "500", "{}", again.body);
    assert_eq!(
        app.get(&format!("/v1/customers/{euro}")).await.body["currency"],
        "EUR"
    );
    // A customer's own change of currency does not carry its limit over either.
    let carried = app
        .put(
            &format!("/v1/customers/{follower}"),
            json!({"currency": "USD"}),
        )
        .await;
    let fields = carried.assert_error(400, "VALIDATION_ERROR");
    assert!(fields["credit_limit"][0]
        .as_str()
        .unwrap()
        .starts_with("is 500 JPY"));
    let history = app
        .get(&format!("/v1/customers/{other}/history"))
        .await
        .body;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "customer.updated", "{history}");
    assert_eq!(
        last["changes"]["currency"],
        json!({"before": "USD", "after": "JPY"})
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arvalox"))
        .args(["verify", "--db"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_request_may_state_its_currency_and_credit_alone_names_one() {
    let app = TestApp::new().await;
    let local = app.customer("Local").await;
    let stated = app
        .post(
            "/v1/payments",
            json!({"customer_id": local, "amount": "5", "payment_method": "cash",
                   "payment_date": "2024-02-01", "currency": "EUR"}),
        )
        .await;
    assert_eq!(
        stated.assert_error(400, "VALIDATION_ERROR")["currency"][0],
        "the customer is billed in USD, not EUR"
    );
    let zero = app
        .post(
            "/v1/payments",
            json!({"customer_id": local, "amount": "0.000", "payment_method": "cash"}),
        )
        .await;
    assert_eq!(
        zero.assert_error(400, "VALIDATION_ERROR")["amount"][0],
        "must be more than 0 (got 0.00)"
    );
    let matching = app
        .post(
            "/v1/payments",
            json!({"customer_id": local, "amount": "5", "payment_method": "cash",
                   "payment_date": "2024-02-01", "currency": "USD"}),
        )
        .await;
    assert_eq!(matching.status, StatusCode::CREATED, "{}", matching.body);

    // A yen customer with credit and nothing open still holds money in yen.
    let shop = customer_in(&app, "Tokyo", "JPY").await;
    let on_account = app
        .post(
            "/v1/payments",
            json!({"customer_id": shop, "amount": "5000", "payment_method": "cash",
                   "payment_date": "2024-02-01"}),
        )
        .await;
    assert_eq!(
        on_account.status,
        StatusCode::CREATED,
        "{}",
        on_account.body
    );
    let aging = app.get("/v1/reports/aging").await.body;
    assert_eq!(aging["currencies"], json!(["JPY"]));
    let yen = app.get("/v1/reports/aging?currency=JPY").await.body;
    assert_eq!(yen["totals"]["unapplied_credit"], "5000");
    assert_eq!(yen["totals"]["net"], "-5000");
}
