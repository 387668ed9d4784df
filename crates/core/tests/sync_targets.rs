//! Sync targets in virtual time: several targets of a kind merged into one stream, targets
//! changed at run time (the subscription's filter updated in place, only what a change adds
//! paged), retention of what no target covers any more, and restarts resuming every target.

use std::future::Future;
use std::pin::Pin;

use dojo_reactive_core::sync::testing::{
    entity_id, model_state, test_setup, CallKind, Harness, SimOutcome, TestSynchronizer,
};
use dojo_reactive_core::sync::{
    restored_targets, Retention, SyncFatalError, SyncOptions, SyncState, SyncTarget, TargetKind,
    TargetScope,
};
use dojo_reactive_core::{Clause, ComparisonOperator, CompositeClause, LogicalOperator};
use dojo_reactive_core::{MemberClause, MemberValue, Primitive};

const E: TargetKind = TargetKind::Entities;
const SEC: u64 = 1_000;
const PLAYER: &str = "ns-Player";

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

fn advance(h: &mut Harness, run: &mut RunFuture<'_>, ms: u64) {
    let until = h.in_ms(ms);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
}

/// 40 entities with a `ns-Player { key: n }` and, for even n, a `ns-Position`.
fn populate(h: &Harness) {
    for n in 0..40 {
        h.server
            .write(E, entity_id(n), model_state(PLAYER, n, n as u32, 1));
        if n % 2 == 0 {
            h.server
                .write(E, entity_id(n), model_state("ns-Position", n, 7, 1));
        }
    }
}

/// Players whose key is in `lo..=hi`.
fn keys_between(id: &str, lo: u64, hi: u64) -> TargetScope {
    let bound = |operator, value: u64| {
        Clause::Member(MemberClause {
            model: PLAYER.into(),
            member: "key".into(),
            operator,
            value: MemberValue::Primitive(Primitive::U64(value)),
        })
    };
    TargetScope {
        id: id.into(),
        models: vec![PLAYER.into()],
        clause: Some(Clause::Composite(CompositeClause {
            operator: LogicalOperator::And,
            clauses: vec![
                bound(ComparisonOperator::Gte, lo),
                bound(ComparisonOperator::Lte, hi),
            ],
        })),
    }
}

/// Players with these entity ids.
fn ids(id: &str, ns: &[u64]) -> TargetScope {
    TargetScope {
        id: id.into(),
        models: vec![PLAYER.into()],
        clause: Some(Clause::HashedKeys(
            ns.iter().map(|n| entity_id(*n)).collect(),
        )),
    }
}

fn synchronizer(h: &Harness, scopes: Vec<TargetScope>, retention: Retention) -> TestSynchronizer {
    let mut setup = test_setup(SyncTarget::of(E, scopes));
    setup.options = SyncOptions {
        page_size: 4,
        retention,
        ..SyncOptions::default()
    };
    h.synchronizer(setup)
}

/// The entity numbers whose player the store holds.
fn stored_players(h: &Harness) -> Vec<u64> {
    (0..40)
        .filter(|n| h.storage.record(E, &entity_id(*n), PLAYER).is_some())
        .collect()
}

fn count(h: &Harness, kind: CallKind) -> usize {
    h.server.calls().iter().filter(|c| c.kind == kind).count()
}

/// Rows served by snapshot pages (not probes, not by-id re-reads) from call number `from` on.
fn rows_since(h: &Harness, from: usize) -> usize {
    h.server.calls()[from..]
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve && c.limit > 1 && c.ids == 0)
        .map(|c| c.rows)
        .sum()
}

fn target_states(sync: &mut TestSynchronizer) -> Vec<(String, bool)> {
    sync.tick()
        .targets
        .into_iter()
        .map(|t| (t.id, t.complete))
        .collect()
}

#[test]
fn several_targets_of_a_kind_share_one_stream() {
    let mut h = Harness::new();
    populate(&h);
    let mut sync = synchronizer(
        &h,
        vec![ids("mine", &[1, 2]), keys_between("region", 10, 19)],
        Retention::Drop,
    );
    let server = h.server.clone();
    h.after(3 * SEC, move || {
        server.write(E, entity_id(15), model_state(PLAYER, 15, 1_500, 2));
        server.write(E, entity_id(30), model_state(PLAYER, 30, 3_000, 2));
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(count(&h, CallKind::Subscribe), 1);
    let mut expected = vec![1, 2];
    expected.extend(10..=19);
    assert_eq!(stored_players(&h), expected);
    assert!(h.storage.record(E, &entity_id(2), "ns-Position").is_none());
    let updated = h.storage.record(E, &entity_id(15), PLAYER).unwrap();
    assert!(format!("{:?}", updated.state).contains("1500"));
    assert_eq!(
        target_states(&mut sync),
        vec![("mine".into(), true), ("region".into(), true)]
    );
}

#[test]
fn a_changed_target_updates_the_stream_and_pages_only_what_it_adds() {
    let mut h = Harness::new();
    populate(&h);
    let mut sync = synchronizer(&h, vec![keys_between("region", 10, 19)], Retention::Drop);
    let handle = sync.handle();
    let server = h.server.clone();
    let calls_at_change = std::rc::Rc::new(std::cell::Cell::new(0));
    let at_change = calls_at_change.clone();
    h.after(3 * SEC, move || {
        at_change.set(server.calls().len());
        handle.retarget(vec![keys_between("region", 15, 24), ids("mine", &[35])]);
    });
    let server = h.server.clone();
    h.after(4 * SEC, move || {
        // Writes stream in the new scope, not in the one left.
        server.write(E, entity_id(22), model_state(PLAYER, 22, 2_200, 2));
        server.write(E, entity_id(12), model_state(PLAYER, 12, 1_200, 2));
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 6 * SEC);
    drop(run);
    assert_eq!(
        count(&h, CallKind::Subscribe),
        1,
        "one stream, updated in place"
    );
    assert_eq!(count(&h, CallKind::UpdateSubscription), 1);
    // The region moved by 5 (20..=24 added) and one id was added: 6 rows, not 11.
    assert_eq!(rows_since(&h, calls_at_change.get()), 6);
    let mut expected: Vec<u64> = (15..=24).collect();
    expected.push(35);
    assert_eq!(stored_players(&h), expected);
    let updated = h.storage.record(E, &entity_id(22), PLAYER).unwrap();
    assert!(format!("{:?}", updated.state).contains("2200"));
    assert_eq!(
        target_states(&mut sync),
        vec![("region".into(), true), ("mine".into(), true)]
    );
    // Removing a target drops what only it covered.
    let mut sync_run = sync;
    sync_run
        .handle()
        .retarget(vec![keys_between("region", 15, 24)]);
    let mut run: RunFuture<'_> = Box::pin(sync_run.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    assert_eq!(stored_players(&h), (15..=24).collect::<Vec<_>>());
    assert_eq!(target_states(&mut sync_run), vec![("region".into(), true)]);
    // What left is forgotten in storage as in memory: no version of it stays behind.
    h.storage
        .check_matches(E, &sync_run.ledger_entries(), sync_run.held_states(), |r| {
            sync_run.holds(r)
        })
        .expect("storage holds what the synchronizer holds");
}

#[test]
fn kept_entities_stay_when_no_target_covers_them_any_more() {
    let mut h = Harness::new();
    populate(&h);
    let mut sync = synchronizer(&h, vec![keys_between("region", 10, 19)], Retention::Keep);
    let handle = sync.handle();
    h.after(3 * SEC, move || {
        handle.retarget(vec![keys_between("region", 15, 24)]);
    });
    let handle = sync.handle();
    h.after(6 * SEC, move || {
        // A full replay does not remove them either.
        handle.force_replay();
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 10 * SEC);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(stored_players(&h), (10..=24).collect::<Vec<_>>());
}

#[test]
fn a_restart_resumes_every_target_and_pages_only_the_new_one() {
    let mut h = Harness::new();
    populate(&h);
    let mut first = synchronizer(
        &h,
        vec![ids("mine", &[1]), keys_between("region", 10, 19)],
        Retention::Drop,
    );
    let mut run: RunFuture<'_> = Box::pin(first.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let stored = h.storage.stored_sync_state(E).unwrap();
    assert_eq!(stored.scopes.len(), 2);
    assert!(stored.scopes.iter().all(|s| s.complete));
    // A reload: the same two targets and a new one.
    let calls = h.server.calls().len();
    h.recorder.clear();
    let mut second = synchronizer(
        &h,
        vec![
            ids("mine", &[1]),
            keys_between("region", 10, 19),
            ids("friend", &[33]),
        ],
        Retention::Drop,
    );
    let mut run: RunFuture<'_> = Box::pin(second.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let ticks = h.recorder.ticks();
    let first_tick = ticks
        .iter()
        .rev()
        .find(|t| t.targets.len() == 3 && t.overall.state == SyncState::Replaying)
        .unwrap();
    assert_eq!(
        first_tick
            .targets
            .iter()
            .map(|t| t.complete)
            .collect::<Vec<_>>(),
        vec![true, true, false],
        "the stored targets are complete from the start"
    );
    assert_eq!(
        target_states(&mut second),
        vec![
            ("mine".into(), true),
            ("region".into(), true),
            ("friend".into(), true)
        ]
    );
    let mut expected = vec![1];
    expected.extend(10..=19);
    expected.push(33);
    assert_eq!(stored_players(&h), expected);
    // The restart caught up (the newest rows of the merged scope: here all 12, every write being
    // within the catch-up margin) and paged the new target's one row; no bootstrap.
    assert_eq!(rows_since(&h, calls), 13);
    assert!(!h.recorder.states().contains(&SyncState::Bootstrapping));
    assert_eq!(count(&h, CallKind::Subscribe), 2);
}

#[test]
fn event_message_targets_change_in_place_and_an_inexact_change_pages_the_whole_target() {
    const M: TargetKind = TargetKind::EventMessages;
    let mut h = Harness::new();
    for n in 0..20 {
        h.server
            .write(M, entity_id(n), model_state(PLAYER, n, n as u32, 1));
    }
    let mut setup = test_setup(SyncTarget::of(M, vec![keys_between("moves", 0, 9)]));
    setup.options = SyncOptions {
        page_size: 4,
        ..SyncOptions::default()
    };
    let mut sync = h.synchronizer(setup);
    let handle = sync.handle();
    let server = h.server.clone();
    let calls_at_change = std::rc::Rc::new(std::cell::Cell::new(0));
    let at_change = calls_at_change.clone();
    h.after(3 * SEC, move || {
        at_change.set(server.calls().len());
        // An OR of two ranges replacing one range: not said exactly, so both ranges are paged
        // whole (0..=4 is held already; the ledger drops those rows as they are).
        let or = Clause::Composite(CompositeClause {
            operator: LogicalOperator::Or,
            clauses: vec![
                keys_between("moves", 0, 4).clause.unwrap(),
                keys_between("moves", 12, 14).clause.unwrap(),
            ],
        });
        handle.retarget(vec![TargetScope {
            clause: Some(or),
            ..keys_between("moves", 0, 0)
        }]);
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 6 * SEC);
    drop(run);
    assert_eq!(sync.state(), SyncState::Streaming);
    assert_eq!(count(&h, CallKind::Subscribe), 1);
    assert_eq!(count(&h, CallKind::UpdateSubscription), 1);
    assert_eq!(rows_since(&h, calls_at_change.get()), 8);
    let held: Vec<u64> = (0..20)
        .filter(|n| h.storage.record(M, &entity_id(*n), PLAYER).is_some())
        .collect();
    assert_eq!(held, vec![0, 1, 2, 3, 4, 12, 13, 14]);
    assert_eq!(target_states(&mut sync), vec![("moves".into(), true)]);
}

#[test]
fn an_update_buffered_before_a_change_does_not_bring_back_what_the_change_drops() {
    let mut h = Harness::new();
    populate(&h);
    let mut sync = synchronizer(&h, vec![keys_between("region", 10, 19)], Retention::Drop);
    let handle = sync.handle();
    let server = h.server.clone();
    h.after(3 * SEC, move || {
        // Streamed while 12 is still in the region, then the region moves away from it: the
        // buffered write was accepted under the old scope and must not outlive the change.
        server.write(E, entity_id(12), model_state(PLAYER, 12, 1_200, 2));
        handle.retarget(vec![keys_between("region", 15, 24)]);
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 6 * SEC);
    drop(run);
    assert_eq!(stored_players(&h), (15..=24).collect::<Vec<_>>());
    h.storage
        .check_matches(E, &sync.ledger_entries(), sync.held_states(), |r| {
            sync.holds(r)
        })
        .expect("storage holds what the synchronizer holds");
}

fn synchronizer_with(
    h: &Harness,
    scopes: Vec<TargetScope>,
    retention: Retention,
    catch_up_margin_s: u64,
) -> TestSynchronizer {
    let mut setup = test_setup(SyncTarget::of(E, scopes));
    setup.options = SyncOptions {
        page_size: 4,
        retention,
        catch_up_margin_s,
        ..SyncOptions::default()
    };
    h.synchronizer(setup)
}

/// The stored cursor of each target, by id (declared and undeclared ones).
fn cursors(h: &Harness) -> Vec<(String, bool, Option<u64>)> {
    h.storage
        .stored_sync_state(E)
        .unwrap()
        .scopes
        .into_iter()
        .map(|s| (s.id, s.complete, s.since))
        .collect()
}

/// Snapshot retrieves (not probes, not by-id re-reads) from call number `from` on, as (the
/// targets they paged, rows served).
fn pages_since(h: &Harness, from: usize) -> Vec<(Vec<String>, usize)> {
    h.server.calls()[from..]
        .iter()
        .filter(|c| c.kind == CallKind::Retrieve && c.limit > 1 && c.ids == 0)
        .map(|c| (c.scopes.clone(), c.rows))
        .collect()
}

#[test]
fn each_target_resumes_from_its_own_cursor() {
    let mut h = Harness::new();
    h.server.set_writes_per_second(1);
    populate(&h);
    let both = || vec![ids("mine", &[1]), keys_between("region", 10, 19)];
    // 1. Both targets complete: one cursor each, the kind's newest row.
    let mut first = synchronizer_with(&h, both(), Retention::Keep, 0);
    let mut run: RunFuture<'_> = Box::pin(first.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let t1 = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    assert!(t1.is_some());
    assert_eq!(
        cursors(&h),
        vec![("mine".into(), true, t1), ("region".into(), true, t1)]
    );
    // 2. A page that declares only `mine`: its cursor moves with the writes it streams; the
    // region's stays where its data was last current (kept, with `Retention::Keep`).
    let mut second = synchronizer_with(&h, vec![ids("mine", &[1])], Retention::Keep, 0);
    let server = h.server.clone();
    h.after(2 * SEC, move || {
        server.write(E, entity_id(1), model_state(PLAYER, 1, 100, 2));
        // Not streamed to this page: no declared target covers it.
        server.write(E, entity_id(15), model_state(PLAYER, 15, 1_500, 2));
        server.write(E, entity_id(1), model_state(PLAYER, 1, 101, 3));
    });
    let mut run: RunFuture<'_> = Box::pin(second.run());
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    let t2 = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    assert!(t2 > t1);
    assert_eq!(
        cursors(&h),
        vec![("mine".into(), true, t2), ("region".into(), true, t1)],
        "the undeclared target keeps its own, older cursor"
    );
    let held = h.storage.record(E, &entity_id(15), PLAYER).unwrap();
    assert!(!format!("{:?}", held.state).contains("1500"));
    // 3. Both again: the pass catches up from the newest cursor (mine's), then the region
    // reads its rows changed since its own cursor, a page, not the whole region again.
    let calls = h.server.calls().len();
    h.recorder.clear();
    let mut third = synchronizer_with(&h, both(), Retention::Keep, 0);
    let mut run: RunFuture<'_> = Box::pin(third.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    assert_eq!(third.state(), SyncState::Streaming);
    let pages = pages_since(&h, calls);
    let merged: Vec<String> = vec!["mine".into(), "region".into()];
    assert_eq!(
        pages.iter().filter(|(s, _)| *s == merged).count(),
        1,
        "one page of the merged catch-up: {pages:?}"
    );
    let own: Vec<&(Vec<String>, usize)> = pages.iter().filter(|(s, _)| *s == ["region"]).collect();
    assert_eq!(
        own.len(),
        1,
        "the region's own catch-up is one page: {pages:?}"
    );
    assert!(own[0].1 <= 4);
    assert!(
        !pages.iter().any(|(s, _)| *s == ["mine"]),
        "mine is not read again"
    );
    let held = h.storage.record(E, &entity_id(15), PLAYER).unwrap();
    assert!(
        format!("{:?}", held.state).contains("1500"),
        "the region caught up"
    );
    assert_eq!(stored_players(&h), {
        let mut expected = vec![1];
        expected.extend(10..=19);
        expected
    });
    let t3 = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    assert_eq!(
        cursors(&h),
        vec![("mine".into(), true, t3), ("region".into(), true, t3)]
    );
    assert!(!h.recorder.states().contains(&SyncState::Bootstrapping));
}

#[test]
fn a_target_added_or_changed_later_does_not_inherit_an_older_cursor() {
    let mut h = Harness::new();
    h.server.set_writes_per_second(1);
    populate(&h);
    let mut first = synchronizer_with(
        &h,
        vec![ids("mine", &[1]), keys_between("region", 10, 19)],
        Retention::Drop,
        0,
    );
    let mut run: RunFuture<'_> = Box::pin(first.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let t1 = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    // Written while the client is closed, before the stored cursor is reached by a catch-up.
    h.server
        .write(E, entity_id(21), model_state(PLAYER, 21, 2_100, 2));
    // A reload where the region grew and a target is new: neither is caught up from the
    // kind's cursor; both are paged whole once streaming, and get a cursor then.
    let calls = h.server.calls().len();
    let mut second = synchronizer_with(
        &h,
        vec![
            ids("mine", &[1]),
            keys_between("region", 10, 25),
            ids("friend", &[33]),
        ],
        Retention::Drop,
        0,
    );
    let mut run: RunFuture<'_> = Box::pin(second.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let pages = pages_since(&h, calls);
    let rows = |id: &str| -> usize {
        pages
            .iter()
            .filter(|(s, _)| *s == [id])
            .map(|(_, rows)| rows)
            .sum()
    };
    assert_eq!(
        rows("region"),
        16,
        "the changed region is paged whole: {pages:?}"
    );
    assert_eq!(rows("friend"), 1);
    assert_eq!(rows("mine"), 0);
    let t2 = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    assert!(t2 > t1);
    assert_eq!(
        cursors(&h),
        vec![
            ("mine".into(), true, t2),
            ("region".into(), true, t2),
            ("friend".into(), true, t2)
        ]
    );
    assert!(stored_players(&h).contains(&21));
}

#[test]
fn a_target_removed_and_added_again_at_run_time_catches_up_from_its_own_cursor() {
    let mut h = Harness::new();
    h.server.set_writes_per_second(1);
    populate(&h);
    let mut sync = synchronizer_with(
        &h,
        vec![ids("mine", &[1]), keys_between("region", 10, 19)],
        Retention::Keep,
        0,
    );
    let handle = sync.handle();
    let server = h.server.clone();
    let (remove, add) = (handle.clone(), handle);
    h.after(3 * SEC, move || {
        remove.retarget(vec![ids("mine", &[1])]);
    });
    h.after(4 * SEC, move || {
        server.write(E, entity_id(15), model_state(PLAYER, 15, 1_500, 2));
        server.write(E, entity_id(1), model_state(PLAYER, 1, 100, 2));
    });
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let mark = (std::rc::Rc::clone(&calls), h.server.clone());
    h.after(6 * SEC, move || {
        mark.0.set(mark.1.calls().len());
        add.retarget(vec![ids("mine", &[1]), keys_between("region", 10, 19)]);
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 8 * SEC);
    drop(run);
    let pages = pages_since(&h, calls.get());
    assert_eq!(
        pages.len(),
        1,
        "one page of the region's catch-up: {pages:?}"
    );
    assert_eq!(pages[0].0, ["region"]);
    let held = h.storage.record(E, &entity_id(15), PLAYER).unwrap();
    assert!(format!("{:?}", held.state).contains("1500"));
    let newest = h.storage.stored_sync_state(E).unwrap().last_timestamp;
    assert_eq!(
        cursors(&h),
        vec![
            ("mine".into(), true, newest),
            ("region".into(), true, newest)
        ]
    );
}

#[test]
fn restored_targets_are_complete_only_under_the_stored_definition() {
    let mut h = Harness::new();
    populate(&h);
    let mut first = synchronizer(
        &h,
        vec![ids("mine", &[1]), keys_between("region", 10, 19)],
        Retention::Drop,
    );
    let mut run: RunFuture<'_> = Box::pin(first.run());
    advance(&mut h, &mut run, 3 * SEC);
    drop(run);
    let stored = h.storage.stored_sync_state(E);
    let target = SyncTarget::of(
        E,
        vec![
            keys_between("region", 10, 19),
            ids("mine", &[1, 2]),
            ids("new", &[3]),
        ],
    );
    let restored: Vec<(String, bool)> = restored_targets(&target, stored.as_ref())
        .into_iter()
        .map(|t| (t.id, t.complete))
        .collect();
    assert_eq!(
        restored,
        vec![
            ("region".into(), true),
            ("mine".into(), false),
            ("new".into(), false)
        ]
    );
    assert!(restored_targets(&target, None).iter().all(|t| !t.complete));
}

#[test]
fn targets_no_longer_declared_keep_their_cursor_only_while_their_data_stays() {
    let mut h = Harness::new();
    populate(&h);
    // Forty one-player targets declared once each, then dropped: with `Retention::Keep` their
    // data stays, and the newest 32 keep their state (the sync state does not grow without bound).
    let many: Vec<TargetScope> = (0..40).map(|n| ids(&format!("p{n}"), &[n])).collect();
    let mut sync = synchronizer_with(&h, many, Retention::Keep, 0);
    let handle = sync.handle();
    h.after(3 * SEC, move || {
        handle.retarget(vec![ids("mine", &[1])]);
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    let stored = cursors(&h);
    assert_eq!(stored.len(), 1 + 32, "{stored:?}");
    assert!(stored
        .iter()
        .all(|(_, complete, since)| *complete && since.is_some()));
    assert_eq!(stored_players(&h).len(), 40, "kept");
    // With `Retention::Drop`, a removal drops the data and the state with it.
    let mut h = Harness::new();
    populate(&h);
    let mut sync = synchronizer_with(
        &h,
        vec![ids("mine", &[1]), keys_between("region", 10, 19)],
        Retention::Drop,
        0,
    );
    let handle = sync.handle();
    h.after(3 * SEC, move || {
        handle.retarget(vec![ids("mine", &[1])]);
    });
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    advance(&mut h, &mut run, 5 * SEC);
    drop(run);
    let ids: Vec<String> = cursors(&h).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids, ["mine"]);
    assert_eq!(stored_players(&h), [1]);
}
