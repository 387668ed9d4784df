//! Encoding of a target's [`TargetSyncState`] (one `sync_meta` record).
//!
//! ```text
//! "DRT" format:u8(=3) flags:u8 [cursor:str] pages_read:varint [last_synced_at:varint]
//! [last_timestamp:varint] updated_at:varint
//! scopes:varint (id:str digest:varint scope_flags:u8 [since:varint])* checksum:4
//! flags = bit 0 cursor, bit 1 snapshot complete, bit 2 last_synced_at, bit 3 last_timestamp
//! scope_flags = bit 0 complete, bit 1 since
//! ```
//!
//! Older formats are still read (the record lives in `sync_meta`; no IndexedDB schema
//! change): format 2 (before each target had its own cursor) is format 3 whose `scope_flags`
//! is only `complete`, each complete target taking the kind's `last_timestamp` as its cursor
//! (every complete target was streamed up to it); format 1 (before sync targets had states)
//! has no `scopes`, so every target is paged once.

use dojo_reactive_core::sync::{ScopeSyncState, TargetSyncState};

use super::{DecodeError, DecodeErrorKind, Reader, Writer};

const MAGIC: &[u8; 3] = b"DRT";
const FORMAT: u8 = 3;
/// The format without a cursor per scope, still read.
const FORMAT_WITHOUT_SCOPE_CURSORS: u8 = 2;
/// The format without scope states, still read.
const FORMAT_WITHOUT_SCOPES: u8 = 1;
const SCOPE_COMPLETE: u8 = 1;
const SCOPE_SINCE: u8 = 2;
const CURSOR: u8 = 1;
const COMPLETE: u8 = 2;
const SYNCED_AT: u8 = 4;
const TIMESTAMP: u8 = 8;

/// Encodes a sync state record.
pub(crate) fn encode_sync_state(state: &TargetSyncState) -> Vec<u8> {
    let mut w = Writer::with_capacity(32 + state.cursor.as_ref().map_or(0, String::len));
    w.bytes(MAGIC);
    w.u8(FORMAT);
    let mut flags = 0;
    if state.cursor.is_some() {
        flags |= CURSOR;
    }
    if state.snapshot_complete {
        flags |= COMPLETE;
    }
    if state.last_synced_at.is_some() {
        flags |= SYNCED_AT;
    }
    if state.last_timestamp.is_some() {
        flags |= TIMESTAMP;
    }
    w.u8(flags);
    if let Some(cursor) = &state.cursor {
        w.str(cursor);
    }
    w.varint(state.pages_read);
    if let Some(at) = state.last_synced_at {
        w.varint(at);
    }
    if let Some(ts) = state.last_timestamp {
        w.varint(ts);
    }
    w.varint(state.updated_at);
    w.len(state.scopes.len());
    for scope in &state.scopes {
        w.str(&scope.id);
        w.varint(scope.digest);
        let mut flags = 0;
        if scope.complete {
            flags |= SCOPE_COMPLETE;
        }
        if scope.since.is_some() {
            flags |= SCOPE_SINCE;
        }
        w.u8(flags);
        if let Some(since) = scope.since {
            w.varint(since);
        }
    }
    w.finish()
}

/// `state` as format 2 wrote it (before targets had cursors): for the native test of the
/// upgrade (`store::cursor_upgrade_tests`).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn encode_format_2(state: &TargetSyncState) -> Vec<u8> {
    let mut without = state.clone();
    for scope in &mut without.scopes {
        scope.since = None;
    }
    // Format 3 without scope cursors differs from format 2 only in its format byte.
    let bytes = encode_sync_state(&without);
    let mut w = Writer::with_capacity(bytes.len());
    w.bytes(MAGIC);
    w.u8(FORMAT_WITHOUT_SCOPE_CURSORS);
    w.bytes(&bytes[MAGIC.len() + 1..bytes.len() - 4]);
    w.finish()
}

/// Decodes a sync state record.
pub(crate) fn decode_sync_state(bytes: &[u8]) -> Result<TargetSyncState, DecodeError> {
    const W: &str = "sync state";
    let mut r = Reader::checked(bytes, W)?;
    let format = r.magic(MAGIC, W)?;
    if ![FORMAT, FORMAT_WITHOUT_SCOPE_CURSORS, FORMAT_WITHOUT_SCOPES].contains(&format) {
        return Err(r.error(DecodeErrorKind::UnsupportedVersion(format)));
    }
    let flags = r.u8(W)?;
    if flags & !(CURSOR | COMPLETE | SYNCED_AT | TIMESTAMP) != 0 {
        return Err(r.error(DecodeErrorKind::BadTag {
            what: "sync state flags",
            tag: flags,
        }));
    }
    let cursor = if flags & CURSOR != 0 {
        Some(r.str("cursor")?.to_owned())
    } else {
        None
    };
    let pages_read = r.varint("pages_read")?;
    let last_synced_at = if flags & SYNCED_AT != 0 {
        Some(r.varint("last_synced_at")?)
    } else {
        None
    };
    let last_timestamp = if flags & TIMESTAMP != 0 {
        Some(r.varint("last_timestamp")?)
    } else {
        None
    };
    let updated_at = r.varint("updated_at")?;
    let mut scopes = Vec::new();
    if format != FORMAT_WITHOUT_SCOPES {
        let known = if format == FORMAT {
            SCOPE_COMPLETE | SCOPE_SINCE
        } else {
            SCOPE_COMPLETE
        };
        // Each scope takes at least an id length, a digest and a flag.
        for _ in 0..r.count(3, "scopes")? {
            let id = r.str("scope id")?.to_owned();
            let digest = r.varint("scope digest")?;
            let flags = r.u8("scope flags")?;
            if flags & !known != 0 {
                return Err(r.error(DecodeErrorKind::BadTag {
                    what: "scope flags",
                    tag: flags,
                }));
            }
            let complete = flags & SCOPE_COMPLETE != 0;
            let since = if flags & SCOPE_SINCE != 0 {
                Some(r.varint("scope since")?)
            } else if format == FORMAT_WITHOUT_SCOPE_CURSORS && complete {
                // Stored before targets had cursors: a complete target was as current as
                // the kind.
                last_timestamp
            } else {
                None
            };
            scopes.push(ScopeSyncState {
                id,
                digest,
                complete,
                since,
            });
        }
    }
    r.expect_end()?;
    Ok(TargetSyncState {
        cursor,
        snapshot_complete: flags & COMPLETE != 0,
        pages_read,
        last_synced_at,
        last_timestamp,
        updated_at,
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_states_round_trip_and_garbage_fails() {
        let states = [
            TargetSyncState::default(),
            TargetSyncState {
                cursor: Some("cursor-ü-123".into()),
                snapshot_complete: true,
                pages_read: 17,
                last_synced_at: Some(1_700_000_000_000),
                last_timestamp: Some(1_700_000_000),
                updated_at: 42,
                scopes: vec![
                    ScopeSyncState {
                        id: "region".into(),
                        digest: u64::MAX,
                        complete: true,
                        since: Some(1_699_999_000),
                    },
                    ScopeSyncState {
                        id: "mine-ü".into(),
                        digest: 7,
                        complete: false,
                        since: None,
                    },
                    ScopeSyncState {
                        id: "dormant".into(),
                        digest: 9,
                        complete: true,
                        since: None,
                    },
                ],
            },
        ];
        for state in &states {
            let bytes = encode_sync_state(state);
            assert_eq!(&decode_sync_state(&bytes).unwrap(), state);
            for len in 0..bytes.len() {
                assert!(decode_sync_state(&bytes[..len]).is_err());
            }
        }
        assert!(decode_sync_state(b"garbage!").is_err());
    }

    #[test]
    fn states_written_before_scopes_still_read() {
        let mut w = Writer::with_capacity(16);
        w.bytes(MAGIC);
        w.u8(FORMAT_WITHOUT_SCOPES);
        w.u8(COMPLETE);
        w.varint(3);
        w.varint(9);
        let state = decode_sync_state(&w.finish()).unwrap();
        assert!(state.snapshot_complete);
        assert_eq!((state.pages_read, state.updated_at), (3, 9));
        assert!(state.scopes.is_empty());
    }

    #[test]
    fn states_written_before_targets_had_cursors_give_complete_ones_the_kind_cursor() {
        let mut w = Writer::with_capacity(64);
        w.bytes(MAGIC);
        w.u8(FORMAT_WITHOUT_SCOPE_CURSORS);
        w.u8(COMPLETE | TIMESTAMP);
        w.varint(0);
        w.varint(1_700_000_000);
        w.varint(9);
        w.len(2);
        w.str("a");
        w.varint(11);
        w.u8(1);
        w.str("b");
        w.varint(12);
        w.u8(0);
        let state = decode_sync_state(&w.finish()).unwrap();
        assert_eq!(state.last_timestamp, Some(1_700_000_000));
        assert_eq!(
            state.scopes,
            vec![
                ScopeSyncState {
                    id: "a".into(),
                    digest: 11,
                    complete: true,
                    since: Some(1_700_000_000),
                },
                ScopeSyncState {
                    id: "b".into(),
                    digest: 12,
                    complete: false,
                    since: None,
                },
            ]
        );
        // Written back, it is format 3 and reads the same.
        assert_eq!(
            decode_sync_state(&encode_sync_state(&state)).unwrap(),
            state
        );
    }
}
