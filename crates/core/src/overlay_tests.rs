//! Overlay tests: confirm, timeout, manual rollback, replacement, time-based guards, and rollback
//! under concurrent synced writes (property-tested). Transactions and relative writes:
//! `overlay_txn_tests.rs`.

use std::cell::Cell;
use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::value::{Primitive, Value};
use crate::Felt;

const MODEL: &str = "arena-Player";

fn member(name: &str, v: u32) -> Member {
    Member {
        name: name.into(),
        key: false,
        value: Value::Primitive(Primitive::U32(v)),
    }
}

fn state(gold: u32, xp: u32) -> Struct {
    Struct {
        name: MODEL.into(),
        members: vec![member("gold", gold), member("xp", xp)],
    }
}

fn submission(tx: &str, gold: u32) -> OverlaySubmission {
    OverlaySubmission {
        entity_id: Felt::from(1u128),
        model: MODEL.into(),
        payload: vec![member("gold", gold)],
        transaction_id: tx.into(),
        guard: None,
        timeout_ms: None,
    }
}

fn id() -> Felt {
    Felt::from(1u128)
}

#[test]
fn a_write_shows_at_once_over_synced_state() {
    let mut overlay = Overlay::default();
    let synced = state(10, 5);
    overlay
        .submit(submission("tx1", 99), Some(&synced), 0)
        .unwrap();
    assert_eq!(
        overlay.merged(&id(), MODEL, Some(&synced)),
        Some(state(99, 5))
    );
    assert_eq!(overlay.merged(&id(), "arena-Other", None), None);
    let alone = overlay.merged(&id(), MODEL, None).unwrap();
    assert_eq!(alone.members, vec![member("gold", 99)]);
}

#[test]
fn a_synced_change_that_matches_confirms_and_drops_the_write() {
    let mut overlay = Overlay::default();
    overlay
        .submit(submission("tx1", 99), Some(&state(10, 5)), 0)
        .unwrap();
    assert_eq!(
        overlay.on_synced_change(&id(), MODEL, Some(&state(11, 5)), 10),
        Vec::new()
    );
    let events = overlay.on_synced_change(&id(), MODEL, Some(&state(99, 6)), 20);
    assert!(
        matches!(events.as_slice(), [OverlayEvent::Confirmed { transaction_id, .. }] if transaction_id == "tx1")
    );
    assert!(overlay.is_empty());
    assert_eq!(
        overlay.merged(&id(), MODEL, Some(&state(99, 6))),
        Some(state(99, 6))
    );
}

#[test]
fn an_unconfirmed_write_times_out_with_a_typed_error() {
    let mut overlay = Overlay::new(500, 30_000);
    let synced = state(10, 5);
    overlay
        .submit(submission("tx1", 99), Some(&synced), 1_000)
        .unwrap();
    assert!(overlay.poll(30_999, |_, _| Some(&synced)).is_empty());
    let events = overlay.poll(31_000, |_, _| Some(&synced));
    match events.as_slice() {
        [OverlayEvent::TimedOut(error)] => {
            assert_eq!(error.transaction_id, "tx1");
            assert_eq!(error.entity_id, id().to_hex());
            assert!(error.guard_description.contains("gold"));
            assert!(error.to_string().contains("rolled back"));
        }
        other => panic!("expected one timeout, got {other:?}"),
    }
    assert_eq!(overlay.merged(&id(), MODEL, Some(&synced)), Some(synced));
}

#[test]
fn per_write_timeouts_override_the_default() {
    let mut overlay = Overlay::new(500, 30_000);
    let mut short = submission("tx1", 99);
    short.timeout_ms = Some(100);
    overlay.submit(short, None, 0).unwrap();
    assert_eq!(overlay.next_wakeup_ms(), Some(0));
    assert_eq!(overlay.poll(100, |_, _| None).len(), 1);
}

#[test]
fn manual_ack_and_rollback_drop_the_write() {
    let mut overlay = Overlay::default();
    overlay.submit(submission("tx1", 99), None, 0).unwrap();
    assert_eq!(overlay.ack("tx1").unwrap()[0].transaction_id, "tx1");
    overlay.submit(submission("tx2", 98), None, 0).unwrap();
    assert_eq!(
        overlay.rollback("tx2").unwrap(),
        OverlayEvent::RolledBack {
            transaction_id: "tx2".into()
        }
    );
    assert!(overlay.is_empty());
    assert_eq!(
        overlay.rollback("tx2"),
        Err(OverlayError::UnknownTransaction {
            transaction_id: "tx2".into()
        })
    );
}

#[test]
fn duplicate_transaction_ids_are_refused() {
    let mut overlay = Overlay::default();
    overlay.submit(submission("tx1", 99), None, 0).unwrap();
    let mut other_model = submission("tx1", 5);
    other_model.model = "arena-Position".into();
    assert!(matches!(
        overlay.submit(other_model, None, 0),
        Err(OverlayError::DuplicateTransaction { .. })
    ));
}

struct OnlyIncreasesGold(u32);

impl Guard for OnlyIncreasesGold {
    fn confirmed(&self, synced: Option<&Struct>, _: u64) -> bool {
        synced
            .and_then(|s| s.member("gold"))
            .is_some_and(|m| m.value == member("gold", self.0).value)
    }
    fn accepts_transition(&self, pending: &Struct) -> bool {
        let current = pending
            .member("gold")
            .and_then(|m| m.value.as_primitive().copied());
        current.is_some_and(|c| {
            Primitive::U32(self.0).compare(&c) == Some(std::cmp::Ordering::Greater)
        })
    }
    fn describe(&self) -> String {
        format!("gold reaches {}", self.0)
    }
}

#[test]
fn a_new_write_replaces_the_pending_one_only_when_its_guard_accepts() {
    let mut overlay = Overlay::default();
    let synced = state(10, 5);
    overlay
        .submit(submission("tx1", 50), Some(&synced), 0)
        .unwrap();
    let mut up = submission("tx2", 60);
    up.guard = Some(Box::new(OnlyIncreasesGold(60)));
    let replaced = overlay.submit(up, Some(&synced), 1).unwrap();
    assert_eq!(
        replaced,
        Some(OverlayEvent::Replaced {
            transaction_id: "tx1".into(),
            by: "tx2".into()
        })
    );
    let mut down = submission("tx3", 40);
    down.guard = Some(Box::new(OnlyIncreasesGold(40)));
    let refused = overlay.submit(down, Some(&synced), 2).unwrap_err();
    assert!(
        matches!(refused, OverlayError::TransitionRejected { ref pending, .. } if pending == "tx2"),
        "{refused}"
    );
    assert_eq!(
        overlay.merged(&id(), MODEL, Some(&synced)),
        Some(state(60, 5))
    );
}

struct ConfirmedAfter(u64, Cell<u32>);

impl Guard for ConfirmedAfter {
    fn confirmed(&self, _: Option<&Struct>, now_ms: u64) -> bool {
        self.1.set(self.1.get() + 1);
        now_ms >= self.0
    }
    fn describe(&self) -> String {
        "time passes".into()
    }
}

#[test]
fn time_based_guards_are_polled_at_the_interval() {
    let mut overlay = Overlay::new(500, 30_000);
    let mut write = submission("tx1", 1);
    write.guard = Some(Box::new(ConfirmedAfter(1_200, Cell::new(0))));
    overlay.submit(write, None, 0).unwrap();
    assert!(overlay.poll(0, |_, _| None).is_empty());
    assert!(
        overlay.poll(200, |_, _| None).is_empty(),
        "not polled again before the interval"
    );
    assert!(overlay.poll(1_000, |_, _| None).is_empty());
    assert_eq!(overlay.poll(1_500, |_, _| None).len(), 1);
}

#[derive(Debug, Clone)]
enum Op {
    Submit { tx: u8, model: bool, gold: u32 },
    SyncedWrite { model: bool, gold: u32, xp: u32 },
    Rollback { tx: u8 },
    Advance { ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, any::<bool>(), 0u32..4).prop_map(|(tx, model, gold)| Op::Submit {
            tx,
            model,
            gold
        }),
        (any::<bool>(), 0u32..4, 0u32..100).prop_map(|(model, gold, xp)| Op::SyncedWrite {
            model,
            gold,
            xp
        }),
        (0u8..6).prop_map(|tx| Op::Rollback { tx }),
        (0u64..20_000).prop_map(|ms| Op::Advance { ms }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever happens, a read shows the pending payload over the latest synced state, and once
    /// nothing is pending (rolled back, confirmed or timed out) it shows exactly the synced state,
    /// including synced writes that arrived while the overlay was pending.
    #[test]
    fn reads_are_payload_over_latest_synced_and_rollback_restores_synced(ops in prop::collection::vec(op(), 1..60)) {
        let models = ["arena-Player", "arena-Position"];
        let mut overlay = Overlay::new(500, 5_000);
        let mut synced: HashMap<&str, Struct> = HashMap::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Submit { tx, model, gold } => {
                    let model = models[usize::from(model)];
                    let mut s = submission(&format!("tx{tx}"), gold);
                    s.model = model.into();
                    let _ = overlay.submit(s, synced.get(model), now);
                }
                Op::SyncedWrite { model, gold, xp } => {
                    let model = models[usize::from(model)];
                    let mut new_state = state(gold, xp);
                    new_state.name = model.into();
                    synced.insert(model, new_state);
                    overlay.on_synced_change(&id(), model, synced.get(model), now);
                }
                Op::Rollback { tx } => { let _ = overlay.rollback(&format!("tx{tx}")); }
                Op::Advance { ms } => {
                    now += ms;
                    let view = &synced;
                    overlay.poll(now, |_, model| view.get(model));
                    prop_assert!(
                        overlay.entries_for(&id()).all(|e| e.deadline_ms > now),
                        "a write outlived its deadline"
                    );
                }
            }
            for model in models {
                let read = overlay.merged(&id(), model, synced.get(model));
                let mut expected = synced.get(model).cloned();
                for entry in overlay.entries_for(&id()).filter(|e| e.model == model) {
                    expected = Some(entry.apply_to(expected.as_ref()));
                }
                prop_assert_eq!(read, expected);
                prop_assert!(overlay.entries_for(&id()).filter(|e| e.model == model).count() <= 1,
                    "a write setting the same member replaces the pending one");
            }
        }
        // Roll everything back: reads are exactly the synced state.
        let pending: Vec<String> = overlay.entries_for(&id()).map(|e| e.transaction_id.clone()).collect();
        for tx in pending {
            overlay.rollback(&tx).unwrap();
        }
        for model in models {
            prop_assert_eq!(overlay.merged(&id(), model, synced.get(model)), synced.get(model).cloned());
        }
    }
}

#[path = "overlay_txn_tests.rs"]
mod txn;
