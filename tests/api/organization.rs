//! The organization's settings (issue 11, section 1, first part): read by any key, changed
//! by admin keys, journaled, guarded by If-Match, and used by what they name.

use arvalox::domain::keys::Scope;
use poem::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn patch(
    app: &TestApp,
    key: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> crate::helpers::Reply {
    app.call(
        Method::PATCH,
        "/v1/organization",
        Some(key),
        headers,
        Some(&body.to_string()),
    )
    .await
}

#[tokio::test]
async fn settings_are_read_changed_journaled_and_used() {
    let app = TestApp::new().await;
    let first = app.get("/v1/organization").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["slug"], "default");
    assert_eq!(first.body["default_payment_terms_days"], 30);
    assert_eq!(first.body["invoice_number_prefix"], "INV-");
    assert_eq!(first.body["credit_note_number_prefix"], "CN-");
    let etag = first.header("etag").unwrap().to_string();

    let changed = patch(
        &app,
        &app.key,
        &[("If-Match", &etag)],
        json!({"legal_name": "Acme Supplies LLC", "tax_id": "US-12-3456789",
               "email": "billing@acme.example", "default_payment_terms_days": 14,
               "invoice_number_prefix": "ACME-", "credit_note_number_prefix": "ACR-"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["legal_name"], "Acme Supplies LLC");
    assert_eq!(changed.body["name"], first.body["name"]);
    let stale = patch(
        &app,
        &app.key,
        &[("If-Match", &etag)],
        json!({"phone": "1"}),
    )
    .await;
    stale.assert_error(412, "PRECONDITION_FAILED");

    // New customers take the default terms; new numbers take the prefixes.
    let acme = app.customer("Acme").await;
    let customer = app.get(&format!("/v1/customers/{acme}")).await.body;
    assert_eq!(customer["payment_terms_days"], 14);
    let invoice = app
        .post(
            "/v1/invoices",
            json!({"customer_id": acme, "issue_date": "2024-01-05",
                   "items": [{"description": "Work", "quantity": 1, "unit_price": "80.00"}]}),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    assert_eq!(invoice.body["invoice_number"], "ACME-2024-00001");
    assert_eq!(invoice.body["due_date"], "2024-01-19");
    let note = app
        .post(
            "/v1/credit-notes",
            json!({"customer_id": acme, "issue_date": "2024-01-06", "reason": "Returned",
                   "items": [{"description": "Work", "quantity": 1, "unit_price": "10.00"}]}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert_eq!(note.body["credit_note_number"], "ACR-2024-00001");

    let events = app.get("/v1/events?entity_type=organization").await.body;
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["type"], "organization.updated");
    assert_eq!(
        items[1]["changes"]["default_payment_terms_days"],
        json!({"before": 30, "after": 14})
    );
    let found = arvalox::api::journal::local::verify(
        &app.state.db,
        &[],
        crate::helpers::date(crate::helpers::TODAY),
    )
    .unwrap();
    assert_eq!(found.faults, Vec::<String>::new());
}

#[tokio::test]
async fn bad_settings_are_named_and_only_admins_change_them() {
    let app = TestApp::new().await;
    let reader = app.new_key("default", Scope::Read);
    let read = app
        .call(Method::GET, "/v1/organization", Some(&reader), &[], None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    patch(&app, &reader, &[], json!({"name": "X"}))
        .await
        .assert_error(403, "INSUFFICIENT_PERMISSIONS");
    let bad = patch(
        &app,
        &app.key,
        &[],
        json!({"name": null, "email": "nope", "default_payment_terms_days": 400,
               "invoice_number_prefix": "IN V", "slug": "other"}),
    )
    .await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    for field in [
        "name",
        "email",
        "default_payment_terms_days",
        "invoice_number_prefix",
        "slug",
    ] {
        assert!(fields.get(field).is_some(), "{field}: {fields}");
    }
    assert_eq!(
        app.get("/v1/organization").await.body["name"],
        read.body["name"]
    );
}

/// Two organizations on one server, at UTC+14 and UTC−12, are on different dates: at
/// 12:00 UTC on 2024-03-01 (the test clock) it is already 2024-03-02 at UTC+14.
#[tokio::test]
async fn each_organization_lives_on_the_date_of_its_own_time_zone() {
    let app = TestApp::new().await;
    let west = app.new_key("west", Scope::Admin);
    let east_zone = patch(
        &app,
        &app.key,
        &[],
        json!({"timezone": "Pacific/Kiritimati"}),
    )
    .await;
    assert_eq!(east_zone.status, StatusCode::OK, "{}", east_zone.body);
    assert_eq!(east_zone.body["timezone"], "Pacific/Kiritimati");
    let west_zone = patch(&app, &west, &[], json!({"timezone": "Etc/GMT+12"})).await;
    assert_eq!(west_zone.status, StatusCode::OK, "{}", west_zone.body);

    for (key, today) in [(&app.key, "2024-03-02"), (&west, "2024-03-01")] {
        let customer = app
            .call(
                Method::POST,
                "/v1/customers",
                Some(key),
                &[],
                Some(&json!({"name": "Local"}).to_string()),
            )
            .await;
        let id = customer.body["id"].as_i64().unwrap();
        let body = json!({"customer_id": id,
                          "items": [{"description": "Work", "quantity": 1, "unit_price": "10.00"}]});
        let invoice = app
            .call(
                Method::POST,
                "/v1/invoices",
                Some(key),
                &[],
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
        assert_eq!(
            invoice.body["issue_date"], today,
            "the default issue date is that zone's today"
        );
        let aging = app
            .call(Method::GET, "/v1/reports/aging", Some(key), &[], None)
            .await;
        assert_eq!(aging.body["as_of"], today, "{}", aging.body);
    }

    let bad = patch(
        &app,
        &app.key,
        &[],
        json!({"timezone": "Mars/Olympus_Mons"}),
    )
    .await;
    let fields = bad.assert_error(400, "VALIDATION_ERROR");
    assert!(fields.get("timezone").is_some(), "{fields}");
    let back = patch(&app, &app.key, &[], json!({"timezone": null})).await;
    assert_eq!(back.body["timezone"], Value::Null);
}

/// `keys create --org NEW --timezone` and `seed-demo --timezone` set a new organization's
/// zone, journaled; an unknown zone is refused by name, and an existing organization's
/// zone is changed through the API, not the CLI.
#[test]
fn the_command_line_gives_a_new_organization_its_zone() {
    let bin = env!("CARGO_BIN_EXE_arvalox");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ar.db");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap()
    };
    let made = run(&[
        "keys",
        "create",
        "--name",
        "w",
        "--org",
        "west",
        "--timezone",
        "Etc/GMT+12",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = run(&[
        "keys",
        "create",
        "--name",
        "w2",
        "--org",
        "west",
        "--timezone",
        "UTC",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("PATCH /v1/organization"));
    let bad = run(&[
        "keys",
        "create",
        "--name",
        "x",
        "--org",
        "mars",
        "--timezone",
        "Mars/Base",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("IANA"));
    let seeded = run(&[
        "seed-demo",
        "--invoices",
        "20",
        "--customers",
        "2",
        "--org",
        "east",
        "--timezone",
        "Pacific/Kiritimati",
    ]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let zones: Vec<(String, Option<String>)> = conn
        .prepare("SELECT slug, timezone FROM organizations ORDER BY id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        zones,
        [
            ("west".to_string(), Some("Etc/GMT+12".to_string())),
            ("east".to_string(), Some("Pacific/Kiritimati".to_string()))
        ]
    );
    let verified = run(&["verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

/// The spec and the server agree on `null`: a property the spec calls nullable clears its
/// setting, and one it does not is refused by name (found in review: `currency` and
/// `paper_size` were nullable in the spec and refused). A blank name is refused as blank.
#[tokio::test]
async fn null_is_taken_exactly_where_the_spec_says_nullable() {
    let app = TestApp::new().await;
    let spec: Value = serde_json::from_str(&arvalox::api::spec_json()).unwrap();
    let properties = spec["components"]["schemas"]["OrganizationUpdate"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    assert!(properties.len() > 10);
    for (name, property) in properties {
        let nullable = property["nullable"] == true;
        let reply = patch(&app, &app.key, &[], json!({ name.clone(): null })).await;
        if nullable {
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        } else {
            let fields = reply.assert_error(400, "VALIDATION_ERROR");
            assert_eq!(
                fields[&name][0], "cannot be null: leave it out to keep it",
                "{name}"
            );
        }
    }
    for blank in ["", "   "] {
        let reply = patch(&app, &app.key, &[], json!({ "name": blank })).await;
        let fields = reply.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(fields["name"][0], "must not be empty", "{blank:?}");
    }
}
