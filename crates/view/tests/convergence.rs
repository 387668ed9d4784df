//! The view model under random interleavings of DELTAs, restores (stored segments, possibly
//! older than what was shown), optimistic transactions (several models and entities, absolute
//! and relative writes), acks, rollbacks and polls. After every step it matches a plain
//! reference exactly: synced reads show the latest synced state (a state older than the held
//! one is dropped, equal times apply, deletions apply), overlay reads show each pending
//! transaction's writes over it in submission order (relative ones added to the latest synced
//! value), queries (scans and keyed lookups) agree with reads, transactions settle exactly when
//! the confirmation rules or their deadline say. And no read ever shows a synced state older
//! than one it showed before (docs/tabs.md), unless a deletion came between (deletions carry no
//! time).

mod common;

use std::collections::BTreeMap;

use common::{deletion, delta, entity, manifest, member_u32, record, state, u32_member, MODELS};
use dojo_reactive_core::{
    Delta, EntityId, OverlayError, OverlayEvent, OverlaySubmission, PrimitiveType, QuerySpec,
    Struct, TransactionSubmission, WriteSubmission,
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
    /// An optimistic transaction, with a fresh id or (`reuse`) the id of a pending one: one
    /// write per key (its first), each setting `x` or changing it by an amount.
    Submit {
        writes: Vec<(Key, Change)>,
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
        3 => (prop::collection::vec((key(), change()), 1..4), 1u64..40, any::<bool>())
            .prop_map(|(writes, timeout, reuse)| Step::Submit { writes, timeout, reuse }),
        1 => (0usize..4).prop_map(Step::Ack),
        1 => (0usize..4).prop_map(Step::Rollback),
        2 => (1u64..25).prop_map(Step::Poll),
    ]
}

/// What a write does to `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Change {
    Set(u32),
    Add(i64),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0u32..4).prop_map(Change::Set),
        prop_oneof![-2i64..0, 1i64..3].prop_map(Change::Add),
    ]
}

/// A pending write as the reference holds it.
#[derive(Debug, Clone)]
struct Write {
    key: Key,
    change: Change,
    /// Synced data confirmed it.
    seen: bool,
    /// `x` at the previous synced change of the key (absent: 0), for relative writes.
    last: i64,
}

/// A pending transaction as the reference holds it.
#[derive(Debug, Clone)]
struct Tx {
    transaction_id: String,
    writes: Vec<Write>,
    deadline: u64,
}

/// The obvious implementation: maps, and the rules written out.
#[derive(Debug, Default)]
struct Reference {
    /// Synced state per key: (t, x).
    synced: BTreeMap<Key, (u32, u32)>,
    /// Pending transactions, oldest first.
    pending: Vec<Tx>,
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

    /// The synced `x` of a key (absent: 0).
    fn x(&self, key: &Key) -> i64 {
        self.synced.get(key).map_or(0, |&(_, x)| i64::from(x))
    }

    /// Absolute writes: seen once the synced state has the written `x`.
    fn see_values(&mut self, key: &Key) {
        let synced = self.synced.get(key).map(|&(_, x)| x);
        for write in self.pending.iter_mut().flat_map(|t| t.writes.iter_mut()) {
            if write.key == *key
                && !write.seen
                && matches!(write.change, Change::Set(x) if Some(x) == synced)
            {
                write.seen = true;
            }
        }
    }

    /// Relative writes: the step `x` took confirms the oldest open amounts it equals (a prefix
    /// sum, else one amount).
    fn see_step(&mut self, key: &Key) {
        let new = self.x(key);
        let open: Vec<(usize, usize, i64, i64)> = self
            .pending
            .iter()
            .enumerate()
            .flat_map(|(t, tx)| {
                tx.writes
                    .iter()
                    .enumerate()
                    .map(move |(w, write)| (t, w, write))
            })
            .filter_map(|(t, w, write)| match write.change {
                Change::Add(amount) if write.key == *key && !write.seen => {
                    Some((t, w, amount, write.last))
                }
                _ => None,
            })
            .collect();
        if let Some(&(_, _, _, last)) = open.first() {
            let step = new - last;
            let mut confirmed: Vec<(usize, usize)> = Vec::new();
            if step != 0 {
                let mut sum = 0;
                for (n, (_, _, amount, _)) in open.iter().enumerate() {
                    sum += amount;
                    if sum == step {
                        confirmed = open[..=n].iter().map(|&(t, w, _, _)| (t, w)).collect();
                        break;
                    }
                }
                if confirmed.is_empty() {
                    confirmed.extend(
                        open.iter()
                            .find(|o| o.2 == step)
                            .map(|&(t, w, _, _)| (t, w)),
                    );
                }
            }
            for (t, w) in confirmed {
                self.pending[t].writes[w].seen = true;
            }
        }
        for write in self.pending.iter_mut().flat_map(|t| t.writes.iter_mut()) {
            if write.key == *key {
                write.last = new;
            }
        }
    }

    /// Drops the transactions whose every write is seen, as confirmed.
    fn settle_seen(&mut self) {
        let settled = &mut self.settled;
        self.pending.retain(|tx| {
            let done = tx.writes.iter().all(|w| w.seen);
            if done {
                settled.push((tx.transaction_id.clone(), "confirmed"));
            }
            !done
        });
    }

    /// The rules re-checked on changed keys.
    fn check(&mut self, touched: &[Key]) {
        for key in touched {
            self.see_step(key);
            self.see_values(key);
            self.settle_seen();
        }
    }

    fn poll(&mut self) -> Vec<(String, &'static str)> {
        let keys: Vec<Key> = self.synced.keys().copied().collect();
        for key in keys {
            self.see_values(&key);
        }
        self.settle_seen();
        let now = self.now;
        let settled = &mut self.settled;
        self.pending.retain(|tx| {
            let late = now >= tx.deadline;
            if late {
                settled.push((tx.transaction_id.clone(), "timedOut"));
            }
            !late
        });
        std::mem::take(&mut self.settled)
    }

    /// Adds a transaction; older ones whose every open write it sets are replaced.
    fn submit(&mut self, tx: Tx) {
        let settled = &mut self.settled;
        self.pending.retain(|old| {
            let shadowed = old.writes.iter().all(|w| {
                w.seen
                    || (matches!(w.change, Change::Set(_))
                        && tx
                            .writes
                            .iter()
                            .any(|n| n.key == w.key && matches!(n.change, Change::Set(_))))
            });
            if shadowed {
                settled.push((old.transaction_id.clone(), "replaced"));
            }
            !shadowed
        });
        self.pending.push(tx);
    }

    /// What a read of `key` shows.
    fn shown(&self, key: &Key, consistency: Consistency) -> Option<Struct> {
        let (id, model) = (key.0, MODELS[key.1]);
        let synced = self.synced.get(key).map(|&(t, x)| state(id, model, t, x));
        let writes: Vec<&Write> = match consistency {
            Consistency::Synced => Vec::new(),
            Consistency::Overlay => self
                .pending
                .iter()
                .flat_map(|t| &t.writes)
                .filter(|w| w.key == *key && !w.seen)
                .collect(),
        };
        if writes.is_empty() {
            return synced;
        }
        let mut x: Option<u32> = synced.as_ref().and_then(|s| member_u32(s, "x"));
        for write in writes {
            x = Some(match write.change {
                Change::Set(v) => v,
                Change::Add(d) => {
                    (i64::from(x.unwrap_or(0)) + d).clamp(0, i64::from(u32::MAX)) as u32
                }
            });
        }
        let x = u32_member("x", false, x.unwrap_or(0));
        Some(match synced {
            Some(mut synced) => {
                if let Some(member) = synced.members.iter_mut().find(|m| m.name == "x") {
                    *member = x;
                }
                synced
            }
            None => Struct {
                name: model.into(),
                members: vec![x],
            },
        })
    }

    fn pending_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .pending
            .iter()
            .filter(|t| t.writes.iter().any(|w| !w.seen))
            .map(|t| t.transaction_id.clone())
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
    pending.dedup();
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
                Step::Submit { writes, timeout, reuse } => {
                    let reused = reference.pending_ids().into_iter().next().filter(|_| *reuse);
                    let transaction_id = match &reused {
                        Some(id) => id.clone(),
                        None => view.fresh_transaction_id(),
                    };
                    let mut keys: Vec<Key> = Vec::new();
                    let mut ref_writes = Vec::new();
                    let mut submissions = Vec::new();
                    for &(key, change) in writes {
                        if keys.contains(&key) {
                            continue;
                        }
                        keys.push(key);
                        ref_writes.push(Write { key, change, seen: false, last: reference.x(&key) });
                        let (payload, deltas) = match change {
                            Change::Set(x) => (vec![u32_member("x", false, x)], Vec::new()),
                            Change::Add(d) => (Vec::new(), vec![Delta::new("x".into(), PrimitiveType::U32, &d.to_string()).expect("an amount")]),
                        };
                        submissions.push(WriteSubmission { entity_id: entity(key.0), model: MODELS[key.1].to_owned(), payload, deltas, guard: None });
                    }
                    // A single absolute write goes through the one-write API.
                    let submitted = match (submissions.len(), writes[0].1) {
                        (1, Change::Set(x)) => view.submit(
                            OverlaySubmission {
                                entity_id: entity(keys[0].0),
                                model: MODELS[keys[0].1].to_owned(),
                                payload: vec![u32_member("x", false, x)],
                                transaction_id: transaction_id.clone(),
                                guard: None,
                                timeout_ms: Some(*timeout),
                            },
                            reference.now,
                        ),
                        _ => view.submit_transaction(
                            TransactionSubmission { transaction_id: transaction_id.clone(), writes: submissions, timeout_ms: Some(*timeout) },
                            reference.now,
                        ),
                    };
                    if reused.is_some() {
                        let duplicate = matches!(submitted, Err(OverlayError::DuplicateTransaction { .. }));
                        prop_assert!(duplicate, "a pending id reused: {:?}", submitted);
                    } else {
                        prop_assert!(submitted.is_ok(), "{:?}", submitted);
                        reference.submit(Tx { transaction_id, writes: ref_writes, deadline: reference.now + timeout });
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
                            reference.pending.retain(|t| t.transaction_id != id);
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
