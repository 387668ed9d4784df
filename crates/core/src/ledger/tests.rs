use super::*;
use crate::value::{Member, Value};
use crate::Felt;

fn id(n: u128) -> EntityId {
    Felt::from(n)
}

fn stream(epoch: u32, seq: u64) -> Source {
    Source::Stream { epoch, seq }
}

fn snap(epoch: u32, page: u64) -> Source {
    Source::Snapshot { epoch, page }
}

fn write(source: Source, t: u64) -> Observation {
    Observation::write(source, t, t)
}

fn ledger() -> (Ledger, ModelId) {
    let mut ledger = Ledger::new();
    let model = ledger.model_id("ns-Position");
    (ledger, model)
}

#[test]
fn first_observation_is_inserted() {
    let (mut l, m) = ledger();
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 1), 10)),
        Decision::Inserted
    );
    assert_eq!(l.get(&id(1), m).unwrap().executed_at, 10);
}

#[test]
fn same_stream_later_message_always_applies() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 1), 10));
    // Equal timestamps: a later message of the same stream is never rejected.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 2), 10)),
        Decision::Replaced
    );
    // Older timestamps (delivered out of order): dropped, counted as a regression.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 3), 9)),
        Decision::Regressed
    );
    assert_eq!(l.get(&id(1), m).unwrap().executed_at, 10);
    // A later message still applies after it.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 4), 11)),
        Decision::Replaced
    );
    // Same or lower seq: duplicate.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 4), 50)),
        Decision::Duplicate
    );
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 2), 50)),
        Decision::Duplicate
    );
}

#[test]
fn same_stream_game_member_going_backwards_is_dropped() {
    let (mut l, m) = ledger();
    let p = |v| Primitive::U64(v);
    l.observe(&id(1), m, &write(stream(1, 1), 10).with_game(p(5)));
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 2), 11).with_game(p(4))),
        Decision::Regressed
    );
    assert_eq!(l.get(&id(1), m).unwrap().game, Some(p(5)));
    assert_eq!(l.stats().regressed, 1);
    assert_eq!(l.stats().stale_dropped(), 1);
}

#[test]
fn snapshot_older_than_held_is_stale_and_ties_go_to_the_stream() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(2, 1), 10));
    assert_eq!(l.observe(&id(1), m, &write(snap(2, 0), 9)), Decision::Stale);
    assert_eq!(
        l.observe(&id(1), m, &write(snap(2, 0), 10)),
        Decision::TieLost
    );
    // A snapshot read in a later epoch than the held stream update wins the tie: that stream
    // ended (maybe with gaps) before the snapshot was read.
    assert_eq!(
        l.observe(&id(1), m, &write(snap(3, 0), 10)),
        Decision::Replaced
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(3, 1), 11)),
        Decision::Replaced
    );
}

#[test]
fn stream_ties_beat_snapshots_of_their_epoch_but_not_of_later_ones() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(snap(2, 4), 10));
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 9), 10)),
        Decision::TieLost
    );
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 9), 9)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(1), m, &write(stream(2, 1), 10)),
        Decision::Replaced
    );
    assert_eq!(
        l.observe(&id(2), m, &write(snap(2, 4), 10)),
        Decision::Inserted
    );
    assert_eq!(
        l.observe(&id(2), m, &write(stream(2, 1), 9)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(2), m, &write(stream(2, 2), 11)),
        Decision::Replaced
    );
}

#[test]
fn snapshot_ties_go_to_the_later_read() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(snap(1, 3), 10));
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 3), 10)),
        Decision::Duplicate
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 2), 10)),
        Decision::TieLost
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 4), 10)),
        Decision::Replaced
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(2, 0), 10)),
        Decision::Replaced
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 9), 10)),
        Decision::TieLost
    );
}

#[test]
fn epochs_compare_by_version_and_the_newer_epoch_wins_ties() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 5), 10));
    assert_eq!(
        l.observe(&id(1), m, &write(stream(2, 1), 10)),
        Decision::Replaced
    );
    // A late message of the old stream: older or tied versions lose.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 6), 10)),
        Decision::TieLost
    );
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 7), 9)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 8), 12)),
        Decision::Replaced
    );
}

#[test]
fn updated_at_breaks_executed_at_ties() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &Observation::write(snap(1, 0), 10, 20));
    assert_eq!(
        l.observe(&id(1), m, &Observation::write(snap(1, 0), 10, 19)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(1), m, &Observation::write(snap(0, 0), 10, 21)),
        Decision::Replaced
    );
}

#[test]
fn deletions_are_versioned_tombstones() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 1), 10));
    assert_eq!(
        l.observe(&id(1), m, &Observation::deletion(stream(1, 2), 11, 11)),
        Decision::Replaced
    );
    assert_eq!(l.get(&id(1), m).unwrap().state, StateKind::Deleted);
    // An older write (a snapshot read before the deletion) loses to the tombstone.
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 0), 10)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 0), 11)),
        Decision::TieLost
    );
    // A newer write (respawn) wins.
    assert_eq!(
        l.observe(&id(1), m, &write(snap(2, 0), 12)),
        Decision::Replaced
    );
    // A tombstone older than the held write loses.
    assert_eq!(
        l.observe(&id(1), m, &Observation::deletion(stream(1, 3), 11, 11)),
        Decision::Stale
    );
}

#[test]
fn game_member_takes_precedence_over_timestamps() {
    let (mut l, m) = ledger();
    let p = |v| Primitive::U32(v);
    l.observe(&id(1), m, &write(snap(1, 0), 20).with_game(p(5)));
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 1), 19).with_game(p(6))),
        Decision::Replaced
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 1), 30).with_game(p(5))),
        Decision::Stale
    );
    // Equal game values fall back to timestamps, then to the tie rule.
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 1), 19).with_game(p(6))),
        Decision::TieLost
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(1, 1), 20).with_game(p(6))),
        Decision::Replaced
    );
    // Compared exactly across widths.
    assert_eq!(
        l.observe(
            &id(1),
            m,
            &write(snap(1, 2), 1).with_game(Primitive::U128(7))
        ),
        Decision::Replaced
    );
    // A tombstone has no game value: timestamps decide.
    assert_eq!(
        l.observe(&id(1), m, &Observation::deletion(snap(1, 3), 2, 2)),
        Decision::Replaced
    );
    assert_eq!(l.get(&id(1), m).unwrap().game, None);
}

#[test]
fn absence_is_ordered_by_position_only() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 1), 10));
    l.observe(&id(2), m, &write(stream(2, 1), 10));
    l.observe(&id(3), m, &write(snap(2, 1), 10));
    // Held from an earlier epoch: the complete snapshot of epoch 2 not having it deletes it.
    assert_eq!(l.observe_absent(&id(1), m, 2, 5), Decision::Replaced);
    // Held from the live stream (epoch 2): that update may be newer than the snapshot.
    assert_eq!(l.observe_absent(&id(2), m, 2, 5), Decision::TieLost);
    // Held from an earlier page of the same epoch: the later read wins.
    assert_eq!(l.observe_absent(&id(3), m, 2, 5), Decision::Replaced);
    assert_eq!(l.get(&id(1), m).unwrap().state, StateKind::Absent);
    // After an absence: stale observations from before it are dropped whatever their time.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 2), 99)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(1), m, &write(snap(2, 4), 99)),
        Decision::Stale
    );
    assert_eq!(l.observe_absent(&id(1), m, 2, 5), Decision::Duplicate);
    // Later ones apply.
    assert_eq!(
        l.observe(&id(1), m, &write(stream(2, 2), 1)),
        Decision::Replaced
    );
    assert_eq!(l.observe_absent(&id(9), m, 2, 5), Decision::Inserted);
    assert_eq!(
        l.observe(&id(9), m, &write(snap(2, 6), 1)),
        Decision::Replaced
    );
}

#[test]
fn observe_state_reads_tag_deletion_and_version_member() {
    let mut l = Ledger::new();
    let m = l.set_version_member("ns-Player", Some("last_updated_at"));
    let state = |v: Option<u64>| Struct {
        name: "ns-Player".into(),
        members: v
            .map(|v| {
                vec![Member {
                    name: "last_updated_at".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U64(v)),
                }]
            })
            .unwrap_or_default(),
    };
    assert_eq!(
        l.observe_state(&id(1), &state(Some(7)), snap(1, 0), 5, 5),
        Decision::Inserted
    );
    assert_eq!(l.get(&id(1), m).unwrap().game, Some(Primitive::U64(7)));
    assert_eq!(
        l.observe_state(&id(1), &state(Some(6)), snap(1, 1), 9, 9),
        Decision::Stale
    );
    assert_eq!(
        l.observe_state(&id(1), &state(None), stream(1, 1), 9, 9),
        Decision::Replaced
    );
    assert_eq!(l.get(&id(1), m).unwrap().state, StateKind::Deleted);
    let other = Struct {
        name: "ns-Player".into(),
        members: vec![Member {
            name: "gold".into(),
            key: false,
            value: Value::Primitive(Primitive::U64(1)),
        }],
    };
    l.observe_state(&id(2), &other, stream(1, 2), 9, 9);
    assert_eq!(l.stats().missing_version_member, 1);
}

#[test]
fn every_decision_is_counted() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 1), 10)); // inserted
    l.observe(&id(1), m, &write(stream(1, 2), 11)); // replaced
    l.observe(&id(1), m, &write(stream(1, 3), 9)); // regressed
    l.observe(&id(1), m, &write(snap(1, 0), 1)); // stale
    l.observe(&id(1), m, &write(snap(1, 0), 11)); // tie lost
    l.observe(&id(1), m, &write(stream(1, 2), 11)); // duplicate
    let s = *l.stats();
    assert_eq!(
        (
            s.inserted,
            s.replaced,
            s.regressed,
            s.stale,
            s.tie_lost,
            s.duplicate
        ),
        (1, 1, 1, 1, 1, 1)
    );
    assert_eq!((s.applied(), s.superseded(), s.stale_dropped()), (2, 1, 4));
    l.reset_stats();
    assert_eq!(l.stats().applied(), 0);
}

#[test]
fn epochs_only_grow_and_observed_epochs_push_the_counter() {
    let mut l = Ledger::new();
    assert_eq!(l.begin_epoch(), 1);
    assert_eq!(l.begin_epoch(), 2);
    let m = l.model_id("ns-M");
    l.observe(&id(1), m, &write(stream(40, 1), 1));
    assert_eq!(l.begin_epoch(), 41);
}

#[test]
fn changing_the_version_member_forgets_game_values() {
    let mut l = Ledger::new();
    let m = l.set_version_member("ns-M", Some("a"));
    l.observe(&id(1), m, &write(snap(1, 0), 1).with_game(Primitive::U8(3)));
    l.set_version_member("ns-M", Some("a"));
    assert!(l.get(&id(1), m).unwrap().game.is_some());
    l.set_version_member("ns-M", Some("b"));
    assert_eq!(l.get(&id(1), m).unwrap().game, None);
}

#[test]
fn complete_snapshot_marks_unseen_entities_absent_and_sets_the_floor() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &write(stream(1, 1), 10)); // old epoch: will be swept
    l.observe(&id(2), m, &write(snap(2, 1), 10)); // seen in the snapshot
    l.observe(&id(3), m, &write(stream(2, 5), 10)); // live stream: may be newer, kept
    l.observe(&id(4), m, &Observation::deletion(stream(1, 2), 9, 9)); // tombstone: swept, no delete
    let deleted = l.complete_snapshot(m, 2, 3, |e| *e == id(2));
    assert_eq!(deleted, vec![id(1)]);
    assert_eq!(l.get(&id(1), m).unwrap().state, StateKind::Absent);
    assert_eq!(l.get(&id(2), m).unwrap().state, StateKind::Write);
    assert_eq!(l.get(&id(3), m).unwrap().state, StateKind::Write);
    assert_eq!(l.get(&id(4), m).unwrap().state, StateKind::Absent);
    // The floor: a never-held entity's late row or old-stream update from before is stale...
    assert_eq!(
        l.observe(&id(7), m, &write(snap(2, 2), 99)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(7), m, &write(stream(1, 9), 99)),
        Decision::Stale
    );
    assert_eq!(
        l.observe(&id(7), m, &write(snap(2, 3), 99)),
        Decision::Duplicate
    );
    assert!(l.get(&id(7), m).is_none());
    // ...while later observations insert.
    assert_eq!(
        l.observe(&id(7), m, &write(stream(2, 6), 1)),
        Decision::Inserted
    );
    assert_eq!(
        l.observe(&id(8), m, &write(snap(3, 0), 1)),
        Decision::Inserted
    );
    // An older complete snapshot does not lower the floor.
    l.complete_snapshot(m, 1, 50, |_| true);
    assert_eq!(l.observe(&id(9), m, &write(snap(2, 2), 1)), Decision::Stale);
}

#[test]
fn tombstones_at_or_before_the_floor_can_be_pruned() {
    let (mut l, m) = ledger();
    l.observe(&id(1), m, &Observation::deletion(stream(1, 1), 5, 5));
    l.observe(&id(2), m, &Observation::deletion(stream(2, 1), 5, 5));
    l.observe(&id(3), m, &write(stream(1, 2), 5));
    assert_eq!(l.prune_tombstones(m), 0, "no floor yet");
    l.complete_snapshot(m, 2, 1, |e| *e == id(3));
    // id(1) became an absence at the floor: pruned. id(2) came from the live stream: kept.
    assert_eq!(l.prune_tombstones(m), 1);
    assert!(l.get(&id(1), m).is_none());
    assert_eq!(l.get(&id(2), m).unwrap().state, StateKind::Deleted);
    // A stale copy of the pruned entity is still refused, by the floor.
    assert_eq!(l.observe(&id(1), m, &write(snap(2, 0), 4)), Decision::Stale);
    l.complete_snapshot(m, 3, 1, |e| *e == id(3));
    assert_eq!(l.prune_tombstones(m), 1);
    assert_eq!(l.len(), 1);
}

#[test]
fn a_buffered_update_is_replaced_only_by_one_not_older() {
    let mut l = Ledger::new();
    l.set_version_member("ns-Player", Some("last_updated_at"));
    let state = |v: u64| Struct {
        name: "ns-Player".into(),
        members: vec![Member {
            name: "last_updated_at".into(),
            key: false,
            value: Value::Primitive(Primitive::U64(v)),
        }],
    };
    let (newer, older) = (state(8), state(7));
    // The game member decides before the timestamps.
    assert!(!l.supersedes_pending((&newer, 5, 5), (&older, 9, 9)));
    assert!(l.supersedes_pending((&older, 9, 9), (&newer, 5, 5)));
    // Equal versions: the later arrival replaces (arrival order breaks ties).
    assert!(l.supersedes_pending((&newer, 5, 5), (&state(8), 5, 5)));
    // Without a game member, timestamps decide; a deletion is versioned by them too.
    let plain = |name: &str| Struct {
        name: name.into(),
        members: Vec::new(),
    };
    let position = Struct {
        name: "ns-Position".into(),
        members: vec![Member {
            name: "x".into(),
            key: false,
            value: Value::Primitive(Primitive::U32(1)),
        }],
    };
    assert!(!l.supersedes_pending((&position, 10, 10), (&plain("ns-Position"), 9, 9)));
    assert!(l.supersedes_pending((&position, 10, 10), (&plain("ns-Position"), 10, 11)));
    assert_eq!(l.stats().regressed, 2);
    assert_eq!(l.stats().stale_dropped(), 2);
}

#[test]
fn an_entry_is_48_bytes_for_a_version_and_a_fingerprint() {
    assert_eq!(std::mem::size_of::<Held>(), 48);
}

#[test]
fn a_held_fingerprint_and_a_version_share_a_key_and_go_independently() {
    let (mut l, m) = ledger();
    let print = crate::sync::Fingerprinter::default().of_record(&crate::sync::ModelRecord {
        entity: id(1),
        world_address: Felt::ZERO,
        state: Struct {
            name: "ns-Position".into(),
            members: Vec::new(),
        },
        created_at: 1,
        updated_at: 1,
        executed_at: 1,
    });
    // A fingerprint without a version, then a version under it.
    assert_eq!(l.hold(&id(1), m, print), None);
    assert_eq!((l.len(), l.held_count(), l.get(&id(1), m)), (0, 1, None));
    assert_eq!(l.entities(m).count(), 0);
    assert_eq!(
        l.observe(&id(1), m, &write(stream(1, 1), 5)),
        Decision::Inserted
    );
    assert_eq!((l.len(), l.held_count()), (1, 1));
    // The version goes, the fingerprint stays; and the other way round.
    assert!(l.remove(&id(1), m).is_some());
    assert_eq!((l.len(), l.held(&id(1), m)), (0, Some(print)));
    l.observe(&id(1), m, &write(stream(1, 2), 6));
    assert_eq!(l.unhold(&id(1), m), Some(print));
    assert_eq!((l.len(), l.held_count(), l.held(&id(1), m)), (1, 0, None));
    assert_eq!(l.get(&id(1), m).map(|v| v.executed_at), Some(6));
    assert_eq!(l.held_keys().count(), 0);
    // A pruned tombstone leaves the fingerprint held under it.
    l.hold(&id(2), m, print);
    l.observe(&id(2), m, &Observation::deletion(snap(2, 1), 7, 7));
    l.complete_snapshot(m, 3, 1, |_| true);
    assert_eq!(l.prune_tombstones(m), 1);
    assert_eq!((l.len(), l.held_count()), (1, 1));
    assert_eq!(l.held_keys().collect::<Vec<_>>(), vec![(id(2), m)]);
    assert_eq!(l.unhold(&id(2), m), Some(print));
    assert_eq!(l.unhold(&id(2), m), None);
}
