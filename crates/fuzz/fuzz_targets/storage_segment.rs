//! Arbitrary bytes decoded as a storage segment (`decode_state_changes`, what the main-thread
//! view decodes from the worker and from IndexedDB): once as they are, and once sealed with a
//! valid checksum so that mutations reach the record decoders behind it. Nothing may panic; a
//! decoded segment's changes re-encode and decode back to the same upserts and deletions of the
//! same target; the view's start-up path (`scan_state_changes`, states decoded when read) reads
//! the same segment as the same changes.
#![no_main]

use dojo_reactive_core::sync::{ModelKey, ModelRecord};
use dojo_reactive_storage::codec::checksum;
use dojo_reactive_storage::{
    decode_state_changes, encode_state_changes, scan_state_changes, EncodedChange, StateChange,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&checksum(data).to_be_bytes());
    check(&sealed);
});

fn check(bytes: &[u8]) {
    let scanned = scan_state_changes(bytes.to_vec());
    let Ok((target, changes)) = decode_state_changes(bytes) else {
        return;
    };
    check_scanned(scanned, target, &changes);
    let (upserts, deletions) = split(changes);
    let Ok(encoded) = encode_state_changes(target, &upserts, &deletions) else {
        return;
    };
    let (again_target, again) = decode_state_changes(&encoded).expect("an encoded segment decodes");
    assert_eq!(again_target, target, "target changed");
    let (again_upserts, again_deletions) = split(again);
    assert_eq!(again_upserts, upserts, "upserts changed");
    assert_eq!(again_deletions, deletions, "deletions changed");
}

/// A segment that decodes also scans to the same changes, each state decoding to the same one.
fn check_scanned(
    scanned: Result<
        (dojo_reactive_core::sync::TargetKind, Vec<EncodedChange>),
        impl std::fmt::Debug,
    >,
    target: dojo_reactive_core::sync::TargetKind,
    changes: &[StateChange],
) {
    let (scanned_target, scanned) = scanned.expect("a segment that decodes also scans");
    assert_eq!(scanned_target, target, "scanned target");
    assert_eq!(scanned.len(), changes.len(), "scanned changes");
    for (lazy, eager) in scanned.iter().zip(changes) {
        match (lazy, eager) {
            (
                EncodedChange::Upsert {
                    entity,
                    updated_at,
                    state,
                    ..
                },
                StateChange::Upsert(record),
            ) => {
                assert_eq!(*entity, record.entity);
                assert_eq!(*updated_at, record.updated_at);
                assert_eq!(
                    state.decode().ok().as_ref(),
                    Some(&record.state),
                    "lazily decoded state"
                );
            }
            (EncodedChange::Delete(lazy), StateChange::Delete(eager)) => assert_eq!(lazy, eager),
            other => panic!("scanned and decoded changes differ: {other:?}"),
        }
    }
}

fn split(changes: Vec<StateChange>) -> (Vec<ModelRecord>, Vec<ModelKey>) {
    let mut upserts = Vec::new();
    let mut deletions = Vec::new();
    for change in changes {
        match change {
            StateChange::Upsert(record) => upserts.push(record),
            StateChange::Delete(key) => deletions.push(key),
        }
    }
    (upserts, deletions)
}
