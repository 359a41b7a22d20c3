use serde_json::{json, Map, Value};

use super::*;

fn event(id: i64, data: Value) -> Map<String, Value> {
    let Value::Object(fields) = json!({
        "id": id,
        "organization_id": 1,
        "type": "invoice.created",
        "entity_type": "invoice",
        "entity_id": 7,
        "data": data,
    }) else {
        unreachable!()
    };
    fields
}

fn chain(count: i64) -> Vec<Map<String, Value>> {
    let mut prev = GENESIS_HASH.to_string();
    (1..=count)
        .map(|id| {
            let sealed = seal(event(id, json!({"total": format!("{id}.00")})), &prev);
            prev = sealed["hash"].as_str().unwrap().to_string();
            sealed
        })
        .collect()
}

fn check(events: &[Map<String, Value>]) -> Result<(i64, String), ChainFault> {
    let mut check = ChainCheck::default();
    for event in events {
        check.next(event)?;
    }
    let (id, hash) = check.head();
    Ok((id, hash.to_string()))
}

#[test]
fn canonical_json_sorts_keys_at_every_depth() {
    let value = json!({"b": 1, "a": {"d": [{"z": 1, "y": 2}], "c": "x"}});
    assert_eq!(
        canonical_json(&value),
        r#"{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}"#
    );
}

#[test]
fn a_sound_chain_ends_at_its_last_hash() {
    let events = chain(3);
    let (id, head) = check(&events).unwrap();
    assert_eq!(id, 3);
    assert_eq!(head, events[2]["hash"].as_str().unwrap());
    assert_eq!(events[0]["prev_hash"], GENESIS_HASH);
    assert_eq!(events[1]["prev_hash"], events[0]["hash"]);
}

#[test]
fn an_edited_event_is_named() {
    let mut events = chain(3);
    events[1].insert("data".into(), json!({"total": "9.00"}));
    let fault = check(&events).unwrap_err();
    assert_eq!(fault.event_id, 2);
    assert!(fault.what.contains("content was changed"), "{}", fault.what);
}

#[test]
fn a_deleted_event_is_named_by_the_missing_id() {
    let mut events = chain(4);
    events.remove(1);
    let fault = check(&events).unwrap_err();
    assert_eq!(fault.event_id, 2);
    assert!(fault.what.contains("missing"), "{}", fault.what);
}

#[test]
fn swapped_events_break_the_chain() {
    let mut events = chain(4);
    // Swap the contents of events 2 and 3, keeping their ids in order.
    let (two, three) = (events[1].clone(), events[2].clone());
    events[1] = three;
    events[2] = two;
    events[1].insert("id".into(), json!(2));
    events[2].insert("id".into(), json!(3));
    let fault = check(&events).unwrap_err();
    assert_eq!(fault.event_id, 2);
}

#[test]
fn changes_name_each_recorded_field_that_moved() {
    let before = json!({"name": "A", "email": null, "outstanding_balance": "1.00"});
    let after = json!({"name": "B", "email": null, "outstanding_balance": "5.00"});
    let changed = changes(EntityType::Customer, Some(&before), &after).unwrap();
    assert_eq!(changed, json!({"name": {"before": "A", "after": "B"}}));
    assert_eq!(changes(EntityType::Customer, None, &after), None);
}

#[test]
fn the_recorded_part_leaves_out_derived_fields() {
    let data = json!({"total": "5.00", "is_overdue": true, "days_overdue": 3});
    assert_eq!(
        recorded_part(EntityType::Invoice, &data),
        json!({"total": "5.00"})
    );
}

#[test]
fn every_listed_event_type_names_a_journaled_entity() {
    for listed in EVENT_TYPES {
        let (entity, _) = listed.split_once('.').unwrap();
        assert!(
            EntityType::ALL.iter().any(|kind| kind.as_str() == entity),
            "{listed}"
        );
    }
    assert_eq!(
        event_type(EntityType::CreditNote, "voided"),
        "credit_note.voided"
    );
    assert!(is_removal("customer.deleted"));
}

#[test]
fn drift_is_a_recorded_field_that_moved_never_a_new_one() {
    let recorded = json!({"total": "5.00", "is_overdue": false});
    let grown = json!({"total": "5.00", "is_overdue": true, "currency": "USD"});
    assert!(drifted_fields(EntityType::Invoice, &recorded, &grown).is_empty());
    let moved = json!({"total": "6.00"});
    assert_eq!(
        drifted_fields(EntityType::Invoice, &recorded, &moved),
        ["total"]
    );
}

#[test]
fn an_older_answer_listing_every_payment_is_not_drift() {
    // Written before the detail listed only the latest PAYMENTS_SHOWN payments.
    let paid = |n: usize| json!({"payment_id": n, "amount": "0.01"});
    let all: Vec<Value> = (1..=150).map(paid).collect();
    let recorded = json!({"total": "5.00", "payments": all});
    let latest: Vec<Value> = (51..=150).map(paid).collect();
    let now = json!({"total": "5.00", "payments": latest, "payments_truncated": true});
    assert!(drifted_fields(EntityType::Invoice, &recorded, &now).is_empty());
    let mut changed = now.clone();
    changed["payments"][99] = paid(151);
    assert_eq!(
        drifted_fields(EntityType::Invoice, &recorded, &changed),
        ["payments"]
    );
}
