//! The overlay over a running synchronizer (scripted transport, in-memory storage, virtual
//! time): a write shows at once, is confirmed when the synced state catches up, and a write that
//! never lands is rolled back on timeout, revealing what Torii wrote meanwhile.

use dojo_reactive_core::sync::testing::{
    entity_id, model_state, test_setup, Harness, SimOutcome, TestSynchronizer,
};
use dojo_reactive_core::sync::{SyncTarget, TargetKind};
use dojo_reactive_core::{
    Member, Overlay, OverlayEvent, OverlaySubmission, Primitive, Struct, Value,
};

const E: TargetKind = TargetKind::Entities;
const MODEL: &str = "ns-Player";

fn run_for(h: &mut Harness, sync: &mut TestSynchronizer, ms: u64) {
    let until = h.in_ms(ms);
    assert_eq!(h.sim.run_until(sync.run(), until), SimOutcome::TimeLimit);
}

/// The synced state of entity 1 (what the synchronizer stored).
fn synced(h: &Harness) -> Option<Struct> {
    h.storage
        .record(TargetKind::Entities, &entity_id(1), MODEL)
        .map(|r| r.state)
}

fn write(tx: &str, value: u32, timeout_ms: Option<u64>) -> OverlaySubmission {
    OverlaySubmission {
        entity_id: entity_id(1),
        model: MODEL.into(),
        payload: vec![Member {
            name: "value".into(),
            key: false,
            value: Value::Primitive(Primitive::U32(value)),
        }],
        transaction_id: tx.into(),
        guard: None,
        timeout_ms,
    }
}

fn value_of(state: &Struct) -> Option<&Value> {
    state.get_path("value")
}

#[test]
fn optimistic_writes_confirm_against_synced_data_or_roll_back_to_it() {
    let mut h = Harness::new();
    h.server.write(E, entity_id(1), model_state(MODEL, 1, 1, 1));
    let mut sync = h.synchronizer(test_setup(SyncTarget::entities()));
    run_for(&mut h, &mut sync, 5_000);
    let mut overlay = Overlay::new(500, 10_000);

    // Shown at once, over the synced state.
    overlay
        .submit(write("tx1", 42, None), synced(&h).as_ref(), h.clock.now())
        .unwrap();
    let shown = overlay
        .merged(&entity_id(1), MODEL, synced(&h).as_ref())
        .unwrap();
    assert_eq!(
        value_of(&shown),
        Some(&Value::Primitive(Primitive::U32(42)))
    );

    // The transaction lands on chain; Torii streams it; the synced change confirms the write.
    h.server
        .write(E, entity_id(1), model_state(MODEL, 1, 42, 2));
    run_for(&mut h, &mut sync, 2_000);
    let events = overlay.on_synced_change(&entity_id(1), MODEL, synced(&h).as_ref(), h.clock.now());
    assert!(
        matches!(events.as_slice(), [OverlayEvent::Confirmed { transaction_id, .. }] if transaction_id == "tx1"),
        "{events:?}"
    );
    assert!(overlay.is_empty());

    // A write that never lands, while Torii writes something else: rolled back on timeout, and
    // reads show exactly the synced state including Torii's write.
    overlay
        .submit(
            write("tx2", 77, Some(10_000)),
            synced(&h).as_ref(),
            h.clock.now(),
        )
        .unwrap();
    h.server.write(E, entity_id(1), model_state(MODEL, 1, 5, 3));
    run_for(&mut h, &mut sync, 2_000);
    assert_eq!(
        overlay.on_synced_change(&entity_id(1), MODEL, synced(&h).as_ref(), h.clock.now()),
        Vec::new()
    );
    let shown = overlay
        .merged(&entity_id(1), MODEL, synced(&h).as_ref())
        .unwrap();
    assert_eq!(
        value_of(&shown),
        Some(&Value::Primitive(Primitive::U32(77))),
        "still optimistic"
    );
    assert_eq!(
        shown.get_path("version"),
        Some(&Value::Primitive(Primitive::U64(3))),
        "over the latest synced state"
    );
    run_for(&mut h, &mut sync, 9_000);
    let latest = synced(&h);
    let events = overlay.poll(h.clock.now(), |_, _| latest.as_ref());
    assert!(
        matches!(events.as_slice(), [OverlayEvent::TimedOut(e)] if e.transaction_id == "tx2"),
        "{events:?}"
    );
    assert_eq!(
        overlay.merged(&entity_id(1), MODEL, latest.as_ref()),
        latest
    );
    assert_eq!(
        latest.as_ref().and_then(value_of),
        Some(&Value::Primitive(Primitive::U32(5)))
    );
}
