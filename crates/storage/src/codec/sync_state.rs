//! Encoding of a target's [`TargetSyncState`] (one `sync_meta` record).
//!
//! ```text
//! "DRT" format:u8(=2) flags:u8 [cursor:str] pages_read:varint [last_synced_at:varint]
//! [last_timestamp:varint] updated_at:varint
//! scopes:varint (id:str digest:varint complete:u8)* checksum:4
//! flags = bit 0 cursor, bit 1 snapshot complete, bit 2 last_synced_at, bit 3 last_timestamp
//! ```
//!
//! Format 1 (written before sync targets had states) is the same without `scopes`.

use dojo_reactive_core::sync::{ScopeSyncState, TargetSyncState};

use super::{DecodeError, DecodeErrorKind, Reader, Writer};

const MAGIC: &[u8; 3] = b"DRT";
const FORMAT: u8 = 2;
/// The format without scope states, still read.
const FORMAT_WITHOUT_SCOPES: u8 = 1;
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
        w.u8(u8::from(scope.complete));
    }
    w.finish()
}

/// Decodes a sync state record.
pub(crate) fn decode_sync_state(bytes: &[u8]) -> Result<TargetSyncState, DecodeError> {
    const W: &str = "sync state";
    let mut r = Reader::checked(bytes, W)?;
    let format = r.magic(MAGIC, W)?;
    if format != FORMAT && format != FORMAT_WITHOUT_SCOPES {
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
    if format == FORMAT {
        // Each scope takes at least an id length, a digest and a flag.
        for _ in 0..r.count(3, "scopes")? {
            let id = r.str("scope id")?.to_owned();
            let digest = r.varint("scope digest")?;
            let complete = match r.u8("scope complete")? {
                0 => false,
                1 => true,
                tag => {
                    return Err(r.error(DecodeErrorKind::BadTag {
                        what: "scope complete",
                        tag,
                    }))
                }
            };
            scopes.push(ScopeSyncState {
                id,
                digest,
                complete,
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
                    },
                    ScopeSyncState {
                        id: "mine-ü".into(),
                        digest: 7,
                        complete: false,
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
}
