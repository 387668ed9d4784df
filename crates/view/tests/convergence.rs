//! The view model under random interleavings of DELTAs, restores (stored segments, possibly
//! older than what was shown), optimistic writes, acks, rollbacks and polls. After every step it
//! matches a plain reference exactly: synced reads show the latest synced state (a state older
//! than the held one is dropped, equal times apply, deletions apply), overlay reads show each
//! pending write over it, queries (scans and keyed lookups) agree with reads, writes settle
//! exactly when their guard or deadline says. And no read ever shows a synced state older than
//! one it showed before (docs/tabs.md), unless a deletion came between (deletions carry no time).

mod common;

use std::collections::BTreeMap;

use common::{deletion, delta, entity, manifest, member_u32, record, state, u32_member, MODELS};
use dojo_reactive_core::{
    EntityId, OverlayError, OverlayEvent, OverlaySubmission, QuerySpec, Struct,
};
use dojo_reactive_view::{Consistency, ViewModel, ViewOptions};
use proptest::prelude::*;

const ENTITIES: u32 = 3;

/// A (entity key, model index) pair.
type Key = (u32, usize);

#[derive(Debug, Clone)]
enum Step {
    /// A relayed DELTA: upserts `(key, t, x)`, then deletions.
    Delta(Vec<(Key, u32, u32)>, Vec<Key>),
    /// A stored segment read at start-up or by a follower (may be older than what is shown).
    Restore(Vec<(Key, u32, u32)>, Vec<Key>),
    /// An optimistic write of `x`, with a fresh id or (`reuse`) the id of a pending write.
    Submit {
        key: Key,
        x: u32,
        timeout: u64,
        reuse: bool,
    },
    /// Acks the `n`-th pending write (an unknown id when none is pending).
    Ack(usize),
    /// Rolls the `n`-th pending write back (an unknown id when none is pending).
    Rollback(usize),
    /// Moves the clock on by `ms` (at least 1) and polls.
    Poll(u64),
}

fn key() -> impl Strategy<Value = Key> {
    (1..=ENTITIES, 0..MODELS.len())
}

fn changes() -> impl Strategy<Value = (Vec<(Key, u32, u32)>, Vec<Key>)> {
    (
        prop::collection::vec((key(), 0u32..8, 0u32..4), 0..5),
        prop::collection::vec(key(), 0..2),
    )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => changes().prop_map(|(u, d)| Step::Delta(u, d)),
        2 => changes().prop_map(|(u, d)| Step::Restore(u, d)),
        3 => (key(), 0u32..4, 1u64..40, any::<bool>())
            .prop_map(|(key, x, timeout, reuse)| Step::Submit { key, x, timeout, reuse }),
        1 => (0usize..4).prop_map(Step::Ack),
        1 => (0usize..4).prop_map(Step::Rollback),
        2 => (1u64..25).prop_map(Step::Poll),
    ]
}

/// A pending write as the reference holds it.
#[derive(Debug, Clone)]
struct Write {
    transaction_id: String,
    x: u32,
    deadline: u64,
}

/// The obvious implementation: maps, and the rules written out.
#[derive(Debug, Default)]
struct Reference {
    /// Synced state per key: (t, x).
    synced: BTreeMap<Key, (u32, u32)>,
    /// Pending write per key.
    pending: BTreeMap<Key, Write>,
    /// Settled since the last poll: (transaction id, kind).
    settled: Vec<(String, &'static str)>,
    now: u64,
}

impl Reference {
    /// Applies changes in order; returns the keys whose synced state changed (`compare`: a
    /// rewrite of the same state is no change, as for relayed DELTAs; restores do not compare).
    fn apply(&mut self, upserts: &[(Key, u32, u32)], deletions: &[Key], compare: bool) -> Vec<Key> {
        let mut touched = Vec::new();
        for &(key, t, x) in upserts {
            let held = self.synced.get(&key).copied();
            if held.is_some_and(|(held_t, _)| t < held_t) {
                continue;
            }
            self.synced.insert(key, (t, x));
            if !compare || held != Some((t, x)) {
                touched.push(key);
            }
        }
        for &key in deletions {
            if self.synced.remove(&key).is_some() {
                touched.push(key);
            }
        }
        touched
    }

    /// The default guard: confirmed once the synced state has the written `x`.
    fn confirms(&self, key: &Key, write: &Write) -> bool {
        self.synced.get(key).is_some_and(|&(_, x)| x == write.x)
    }

    /// Guards re-checked on changed keys.
    fn check(&mut self, touched: &[Key]) {
        for key in touched {
            let confirmed = self
                .pending
                .get(key)
                .is_some_and(|write| self.confirms(key, write));
            if confirmed {
                if let Some(write) = self.pending.remove(key) {
                    self.settled.push((write.transaction_id, "confirmed"));
                }
            }
        }
    }

    fn poll(&mut self) -> Vec<(String, &'static str)> {
        let keys: Vec<Key> = self.pending.keys().copied().collect();
        for key in keys {
            let Some(write) = self.pending.get(&key).cloned() else {
                continue;
            };
            if self.confirms(&key, &write) {
                self.pending.remove(&key);
                self.settled.push((write.transaction_id, "confirmed"));
            } else if self.now >= write.deadline {
                self.pending.remove(&key);
                self.settled.push((write.transaction_id, "timedOut"));
            }
        }
        std::mem::take(&mut self.settled)
    }

    /// What a read of `key` shows.
    fn shown(&self, key: &Key, consistency: Consistency) -> Option<Struct> {
        let (id, model) = (key.0, MODELS[key.1]);
        let synced = self.synced.get(key).map(|&(t, x)| state(id, model, t, x));
        let write = match consistency {
            Consistency::Synced => None,
            Consistency::Overlay => self.pending.get(key),
        };
        match (synced, write) {
            (synced, None) => synced,
            (Some(mut synced), Some(write)) => {
                if let Some(member) = synced.members.iter_mut().find(|m| m.name == "x") {
                    *member = u32_member("x", false, write.x);
                }
                Some(synced)
            }
            (None, Some(write)) => Some(Struct {
                name: model.into(),
                members: vec![u32_member("x", false, write.x)],
            }),
        }
    }

    fn pending_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .pending
            .values()
            .map(|w| w.transaction_id.clone())
            .collect();
        ids.sort();
        ids
    }
}

fn kind(event: &OverlayEvent) -> &'static str {
    match event {
        OverlayEvent::Confirmed { .. } => "confirmed",
        OverlayEvent::TimedOut(_) => "timedOut",
        OverlayEvent::Replaced { .. } => "replaced",
        OverlayEvent::RolledBack { .. } => "rolledBack",
    }
}

fn upserts(changes: &[(Key, u32, u32)]) -> Vec<dojo_reactive_core::sync::ModelRecord> {
    changes
        .iter()
        .map(|&((id, m), t, x)| record(id, MODELS[m], t, x))
        .collect()
}

fn deletions(keys: &[Key]) -> Vec<dojo_reactive_core::sync::ModelKey> {
    keys.iter()
        .map(|&(id, m)| deletion(id, MODELS[m]))
        .collect()
}

fn query(
    view: &mut ViewModel,
    model: &str,
    spec: serde_json::Value,
    consistency: Consistency,
) -> Vec<(EntityId, Struct)> {
    let spec: QuerySpec = serde_json::from_value(spec).expect("a query spec");
    view.query(model, &spec, consistency)
        .expect("the query compiles")
        .items
}

/// Every read of the view agrees with the reference.
fn check_reads(view: &mut ViewModel, reference: &Reference) -> Result<(), TestCaseError> {
    let held = (1..=ENTITIES)
        .filter(|&id| (0..MODELS.len()).any(|m| reference.synced.contains_key(&(id, m))))
        .count();
    prop_assert_eq!(view.size(), held);
    for consistency in [Consistency::Overlay, Consistency::Synced] {
        for id in 1..=ENTITIES {
            let mut shown = view.entity(&entity(id), consistency);
            shown.sort_by(|a, b| a.name.cmp(&b.name));
            let mut expected: Vec<Struct> = (0..MODELS.len())
                .filter_map(|m| reference.shown(&(id, m), consistency))
                .collect();
            expected.sort_by(|a, b| a.name.cmp(&b.name));
            prop_assert_eq!(&shown, &expected, "entity {} ({:?})", id, consistency);
        }
        for (m, model) in MODELS.iter().enumerate() {
            let mut expected: Vec<(EntityId, Struct)> = (1..=ENTITIES)
                .filter_map(|id| Some((entity(id), reference.shown(&(id, m), consistency)?)))
                .collect();
            expected.sort_by_key(|(id, _)| *id);
            let all = query(view, model, serde_json::json!({}), consistency);
            prop_assert_eq!(&all, &expected, "scan of {} ({:?})", model, consistency);
            for x in 0..4 {
                let hits = query(
                    view,
                    model,
                    serde_json::json!({ "filter": { "where": [{ "member": "x", "op": "eq", "value": x }] } }),
                    consistency,
                );
                let want: Vec<_> = expected
                    .iter()
                    .filter(|(_, s)| member_u32(s, "x") == Some(x))
                    .cloned()
                    .collect();
                prop_assert_eq!(&hits, &want, "x == {} on {} ({:?})", x, model, consistency);
            }
            for id in 1..=ENTITIES {
                // Every key fixed: the keyed lookup (the entity id is the keys' hash).
                let keyed = query(
                    view,
                    model,
                    serde_json::json!({ "filter": { "keys": { "id": id } } }),
                    consistency,
                );
                let want: Vec<_> = expected
                    .iter()
                    .filter(|(e, s)| *e == entity(id) && member_u32(s, "id") == Some(id))
                    .cloned()
                    .collect();
                prop_assert_eq!(
                    &keyed,
                    &want,
                    "id == {} on {} ({:?})",
                    id,
                    model,
                    consistency
                );
            }
        }
    }
    let mut pending: Vec<String> = (1..=ENTITIES)
        .flat_map(|id| {
            view.overlay_for(&entity(id))
                .map(|e| e.transaction_id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    pending.sort();
    prop_assert_eq!(pending, reference.pending_ids());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_view_shows_overlay_over_latest_synced_and_never_goes_back(
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let manifest = manifest();
        let options = ViewOptions { overlay_timeout_ms: Some(30), overlay_poll_ms: Some(1) };
        let mut view = ViewModel::new(&manifest, options);
        let mut reference = Reference { now: 1, ..Reference::default() };
        // The latest synced time each read showed, reset by a deletion.
        let mut shown_t: BTreeMap<Key, u32> = BTreeMap::new();
        for step in &steps {
            match step {
                Step::Delta(ups, dels) => {
                    let changed = view.apply_delta(&delta(&upserts(ups), &deletions(dels))).expect("a DELTA");
                    let touched = reference.apply(ups, dels, true);
                    let mut expected: Vec<EntityId> = Vec::new();
                    for (id, _) in &touched {
                        if !expected.contains(&entity(*id)) {
                            expected.push(entity(*id));
                        }
                    }
                    prop_assert_eq!(changed, expected, "entities reported changed");
                    reference.check(&touched);
                    for key in dels {
                        shown_t.remove(key);
                    }
                }
                Step::Restore(ups, dels) => {
                    view.restore(delta(&upserts(ups), &deletions(dels))).expect("a segment");
                    let touched = reference.apply(ups, dels, false);
                    if !reference.pending.is_empty() {
                        reference.check(&touched);
                    }
                    for key in dels {
                        shown_t.remove(key);
                    }
                }
                Step::Submit { key, x, timeout, reuse } => {
                    let reused = reference.pending_ids().into_iter().next().filter(|_| *reuse);
                    let transaction_id = match &reused {
                        Some(id) => id.clone(),
                        None => view.fresh_transaction_id(),
                    };
                    let submitted = view.submit(
                        OverlaySubmission {
                            entity_id: entity(key.0),
                            model: MODELS[key.1].to_owned(),
                            payload: vec![u32_member("x", false, *x)],
                            transaction_id: transaction_id.clone(),
                            guard: None,
                            timeout_ms: Some(*timeout),
                        },
                        reference.now,
                    );
                    if reused.is_some() {
                        let duplicate = matches!(submitted, Err(OverlayError::DuplicateTransaction { .. }));
                        prop_assert!(duplicate, "a pending id reused: {:?}", submitted);
                    } else {
                        prop_assert!(submitted.is_ok(), "{:?}", submitted);
                        let write = Write { transaction_id, x: *x, deadline: reference.now + timeout };
                        if let Some(old) = reference.pending.insert(*key, write) {
                            reference.settled.push((old.transaction_id, "replaced"));
                        }
                    }
                }
                Step::Ack(n) | Step::Rollback(n) => {
                    let id = reference.pending_ids().get(*n).cloned();
                    let target = id.clone().unwrap_or_else(|| "unknown".to_owned());
                    let done = match step {
                        Step::Ack(_) => view.ack(&target),
                        _ => view.rollback(&target),
                    };
                    match id {
                        Some(id) => {
                            prop_assert!(done.is_ok(), "{:?}", done);
                            reference.pending.retain(|_, w| w.transaction_id != id);
                        }
                        None => {
                            let unknown = matches!(done, Err(OverlayError::UnknownTransaction { .. }));
                            prop_assert!(unknown, "{:?}", done);
                        }
                    }
                }
                Step::Poll(ms) => {
                    reference.now += ms;
                    let polled = view.poll(reference.now);
                    let mut seen: Vec<(String, &'static str)> = polled
                        .events
                        .iter()
                        .map(|s| (dojo_reactive_view::model::event_transaction(&s.event).to_owned(), kind(&s.event)))
                        .collect();
                    let mut expected = reference.poll();
                    seen.sort();
                    expected.sort();
                    prop_assert_eq!(seen, expected, "settled writes at {}", reference.now);
                    prop_assert_eq!(view.next_wakeup_ms().is_some(), !reference.pending.is_empty());
                }
            }
            check_reads(&mut view, &reference)?;
            for (key, &(t, _)) in &reference.synced {
                let shown = view.entity(&entity(key.0), Consistency::Synced);
                let t_now = shown
                    .iter()
                    .find(|s| s.name == MODELS[key.1])
                    .and_then(|s| member_u32(s, "t"));
                prop_assert_eq!(t_now, Some(t));
                if let Some(&before) = shown_t.get(key) {
                    prop_assert!(t >= before, "{:?} went back from t={} to t={}", key, before, t);
                }
                shown_t.insert(*key, t);
            }
        }
        // Torii's latest state of every key arrives last: the view converges to it, under the
        // writes still pending.
        let latest: Vec<(Key, u32, u32)> = (1..=ENTITIES)
            .flat_map(|id| (0..MODELS.len()).map(move |m| ((id, m), 100, id + m as u32)))
            .collect();
        view.apply_delta(&delta(&upserts(&latest), &[])).expect("a DELTA");
        let touched = reference.apply(&latest, &[], true);
        reference.check(&touched);
        check_reads(&mut view, &reference)?;
    }
}
