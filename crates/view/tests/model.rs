//! The view model's edges: bytes that are not a DELTA change nothing, writes on models whose
//! shape is unknown are refused with a reason, a model the manifest names without types reads as
//! empty until a state of it arrives (then its shape is learned), and settled writes are reported
//! once, by the next poll.

mod common;

use common::{delta, entity, manifest, record, u32_member, MODELS};
use dojo_reactive_core::{Manifest, OverlayEvent, OverlaySubmission, QuerySpec};
use dojo_reactive_view::{Consistency, UnknownShape, ViewModel, ViewOptions};

fn write(key: u32, model: &str, x: u32, transaction_id: &str) -> OverlaySubmission {
    OverlaySubmission {
        entity_id: entity(key),
        model: model.to_owned(),
        payload: vec![u32_member("x", false, x)],
        transaction_id: transaction_id.to_owned(),
        guard: None,
        timeout_ms: None,
    }
}

#[test]
fn bytes_that_are_not_a_delta_change_nothing() {
    let mut view = ViewModel::new(&manifest(), ViewOptions::default());
    view.apply_delta(&delta(&[record(1, MODELS[0], 1, 1)], &[]))
        .unwrap();
    let mut cut = delta(&[record(2, MODELS[0], 1, 1)], &[]);
    cut.truncate(cut.len() - 3);
    assert!(view.apply_delta(&cut).is_err());
    assert!(view.apply_delta(b"not a delta").is_err());
    assert!(view.restore(cut).is_err());
    assert_eq!(view.size(), 1);
}

#[test]
fn writes_on_unknown_models_are_refused_with_the_reason() {
    let json = serde_json::json!({
        "world": { "class_hash": "0x1", "address": "0x2" },
        "models": [{ "tag": "ns-Class", "class_hash": "0x3", "selector": "0x3", "members": [
            { "name": "id", "type": "core::integer::u32", "key": true },
            { "name": "class", "type": "ns::models::Class", "key": false }
        ] }],
    });
    let mut view = ViewModel::new(&Manifest::from_json(&json).unwrap(), ViewOptions::default());
    let awaiting = view.write_shape("ns-Class").unwrap_err();
    assert_eq!(
        awaiting,
        UnknownShape {
            model: "ns-Class".into(),
            awaiting: true
        }
    );
    assert!(awaiting.to_string().contains("not known yet"));
    let unknown = view.write_shape("ns-Nope").unwrap_err();
    assert!(!unknown.awaiting);
    assert!(unknown.to_string().contains("not in the manifest"));
    // No state arrived: the model reads as empty rather than failing to compile.
    let page = view
        .query("ns-Class", &QuerySpec::default(), Consistency::Overlay)
        .unwrap();
    assert!(page.items.is_empty());
    assert!(view
        .query("ns-Nope", &QuerySpec::default(), Consistency::Overlay)
        .is_err());
}

#[test]
fn a_shape_is_learned_from_the_first_state_of_a_model_without_types() {
    let json = serde_json::json!({
        "world": { "class_hash": "0x1", "address": "0x2" },
        "models": [{ "tag": "ns-Pos", "class_hash": "0x3", "selector": "0x3", "members": [
            { "name": "id", "type": "core::integer::u32", "key": true },
            { "name": "t", "type": "ns::models::Time", "key": false },
            { "name": "x", "type": "core::integer::u32", "key": false }
        ] }],
    });
    let mut view = ViewModel::new(&Manifest::from_json(&json).unwrap(), ViewOptions::default());
    assert!(view.write_shape("ns-Pos").is_err());
    view.restore(delta(&[record(1, "ns-Pos", 4, 2)], &[]))
        .unwrap();
    assert!(view.write_shape("ns-Pos").is_ok());
    let spec: QuerySpec = serde_json::from_value(
        serde_json::json!({ "filter": { "where": [{ "member": "x", "op": "eq", "value": 2 }] } }),
    )
    .unwrap();
    let page = view.query("ns-Pos", &spec, Consistency::Synced).unwrap();
    assert_eq!(page.items.len(), 1);
}

#[test]
fn a_confirmation_found_by_a_delta_is_reported_once_by_the_next_poll() {
    let mut view = ViewModel::new(&manifest(), ViewOptions::default());
    view.submit(write(1, MODELS[0], 7, "tx-1"), 10).unwrap();
    assert!(
        view.next_wakeup_ms().is_some(),
        "a pending write wants polls"
    );
    let changed = view
        .apply_delta(&delta(&[record(1, MODELS[0], 5, 7)], &[]))
        .unwrap();
    assert_eq!(changed, vec![entity(1)]);
    // Queued: poll at once.
    assert_eq!(view.next_wakeup_ms(), Some(10));
    let polled = view.poll(11);
    assert_eq!(polled.changed, vec![entity(1)]);
    assert!(matches!(
        &polled.events[..],
        [settled] if matches!(&settled.event, OverlayEvent::Confirmed { transaction_id, .. } if transaction_id == "tx-1")
            && settled.model == MODELS[0]
    ));
    assert!(view.poll(12).events.is_empty());
    assert_eq!(view.next_wakeup_ms(), None);
    assert_eq!(view.fresh_transaction_id(), "overlay-1");
    assert_eq!(view.fresh_transaction_id(), "overlay-2");
}
