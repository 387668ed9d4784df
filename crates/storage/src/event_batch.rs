//! The binary form of one change of an event-log target ([`EventBatch`]): the record the
//! `event_log` store holds (one per change, a snapshot after compaction) and the buffer the
//! sync worker sends to the main thread.
//!
//! ```text
//! batch    = "DRE" format:u8(=1) snapshot:u8(0|1) target:str strings
//!            added:varint event* evicted:varint identity* checksum:4
//! identity = entity:32 model:sref executed_at:varint hash:16 occurrence:varint
//! event    = identity position:zigzag created_at:varint world:bytes32 members
//! ```
//! (`members`, `sref`, `bytes32`: see the `codec` modules.)

use dojo_reactive_core::{EventContent, EventIdentity, EventLog, Felt, LoggedEvent, Name, Struct};

use crate::codec::value::{read_members, read_strings, sref, write_members, EncodeError, Strings};
use crate::codec::{DecodeError, DecodeErrorKind, Reader, Writer};

const MAGIC: &[u8; 3] = b"DRE";
const FORMAT: u8 = 1;
const WHAT: &str = "event batch";

/// One change of an event-log target's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventBatch {
    /// The target's id.
    pub target: String,
    /// Whether this batch holds the whole log, replacing every earlier batch of the target
    /// (written by compaction, and sent when a target's log is replaced).
    pub snapshot: bool,
    /// Events added, in the log's order.
    pub added: Vec<LoggedEvent>,
    /// Events that left by retention.
    pub evicted: Vec<EventIdentity>,
}

fn write_identity<'a>(w: &mut Writer, strings: &mut Strings<'a>, identity: &'a EventIdentity) {
    let content = &identity.content;
    w.bytes(&content.entity.0);
    w.varint(strings.id(&content.model).into());
    w.varint(content.executed_at);
    w.bytes(&content.hash);
    w.varint(identity.occurrence.into());
}

fn read_identity(r: &mut Reader<'_>, strings: &[Name]) -> Result<EventIdentity, DecodeError> {
    let entity = Felt(r.array::<32>("event entity id")?);
    let model = sref(r, strings)?;
    let executed_at = r.varint("event executed_at")?;
    let hash = r.array::<16>("event content hash")?;
    let occurrence = r.varint_u32("event occurrence")?;
    Ok(EventIdentity {
        content: EventContent {
            entity,
            model,
            executed_at,
            hash,
        },
        occurrence,
    })
}

/// Encodes a batch.
pub fn encode_event_batch(batch: &EventBatch) -> Result<Vec<u8>, EncodeError> {
    encode_parts(
        &batch.target,
        batch.snapshot,
        &mut batch.added.iter(),
        &batch.evicted,
    )
}

/// Encodes the snapshot batch of `target` holding `events` (a whole log, in its order), without
/// copying them into an [`EventBatch`] first.
pub fn encode_event_snapshot<'a>(
    target: &str,
    mut events: impl ExactSizeIterator<Item = &'a LoggedEvent>,
) -> Result<Vec<u8>, EncodeError> {
    encode_parts(target, true, &mut events, &[])
}

/// Encodes a batch from its parts (one body for both callers: the worker's code stays small).
fn encode_parts<'a>(
    target: &str,
    snapshot: bool,
    added: &mut dyn ExactSizeIterator<Item = &'a LoggedEvent>,
    evicted: &'a [EventIdentity],
) -> Result<Vec<u8>, EncodeError> {
    let mut strings = Strings::default();
    // About what an event of a few members takes: the buffer grows if it needs more.
    let mut body = Writer::with_capacity(128 * added.len() + 64);
    body.len(added.len());
    for event in added {
        write_identity(&mut body, &mut strings, &event.identity);
        body.zigzag64(event.position);
        body.varint(event.created_at);
        body.bytes32(&event.world_address.0);
        write_members(&mut body, &mut strings, &event.state.members, 0)?;
    }
    body.len(evicted.len());
    for identity in evicted {
        write_identity(&mut body, &mut strings, identity);
    }
    let mut w = Writer::with_capacity(body.out.len() + target.len() + 256);
    w.bytes(MAGIC);
    w.u8(FORMAT);
    w.u8(u8::from(snapshot));
    w.str(target);
    strings.write(&mut w);
    w.bytes(&body.out);
    Ok(w.finish())
}

/// Decodes a batch written by [`encode_event_batch`], checking its checksum and every length.
pub fn decode_event_batch(bytes: &[u8]) -> Result<EventBatch, DecodeError> {
    let mut r = Reader::checked(bytes, WHAT)?;
    let format = r.magic(MAGIC, WHAT)?;
    if format != FORMAT {
        return Err(r.error(DecodeErrorKind::UnsupportedVersion(format)));
    }
    let snapshot = match r.u8("event batch kind")? {
        0 => false,
        1 => true,
        tag => {
            return Err(r.error(DecodeErrorKind::BadTag {
                what: "event batch kind",
                tag,
            }))
        }
    };
    let target = r.str("event batch target")?.to_owned();
    let strings = read_strings(&mut r)?;
    // An event takes at least 32 + 1 + 1 + 16 + 1 + 1 + 1 + 1 + 1 bytes.
    let count = r.count(55, "event count")?;
    let mut added = Vec::with_capacity(count);
    for _ in 0..count {
        let identity = read_identity(&mut r, &strings)?;
        let position = r.zigzag64("event position")?;
        let created_at = r.varint("event created_at")?;
        let world_address = Felt(r.bytes32("event world address")?);
        let members = read_members(&mut r, &strings, 0)?;
        added.push(LoggedEvent {
            state: Struct {
                name: identity.content.model.clone(),
                members,
            },
            identity,
            created_at,
            world_address,
            position,
        });
    }
    let count = r.count(51, "evicted count")?;
    let mut evicted = Vec::with_capacity(count);
    for _ in 0..count {
        evicted.push(read_identity(&mut r, &strings)?);
    }
    r.expect_end()?;
    Ok(EventBatch {
        target,
        snapshot,
        added,
        evicted,
    })
}

/// `log` as batches of `target` of `size` events each (oldest first within a batch), the newest
/// batch first, the first a snapshot (it replaces what a view held): how a stored log reaches
/// the view in bounded pieces. An empty log is one empty snapshot.
pub fn newest_first_chunks<'a>(
    target: &'a str,
    log: &'a EventLog,
    size: usize,
) -> impl Iterator<Item = EventBatch> + 'a {
    let mut rest = log.iter().rev().peekable();
    let mut first = true;
    std::iter::from_fn(move || {
        if !first && rest.peek().is_none() {
            return None;
        }
        let mut added: Vec<LoggedEvent> = rest.by_ref().take(size.max(1)).cloned().collect();
        added.reverse();
        let snapshot = std::mem::replace(&mut first, false);
        Some(EventBatch {
            target: target.to_owned(),
            snapshot,
            added,
            evicted: Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use dojo_reactive_core::{
        Delivery, EventRetention, IncomingEvent, Member, Placement, Primitive, Value,
    };

    use super::*;

    fn event(entity: u128, hp: u32, at: u64, occurrence: u32) -> LoggedEvent {
        let state = Struct {
            name: "ns-Moved".into(),
            members: vec![
                Member {
                    name: "player".into(),
                    key: true,
                    value: Value::Primitive(Primitive::ContractAddress(Felt::from(entity))),
                },
                Member {
                    name: "hp".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U32(hp)),
                },
                Member {
                    name: "at".into(),
                    key: false,
                    value: Value::Primitive(Primitive::U64(u64::MAX - u64::from(hp))),
                },
            ],
        };
        LoggedEvent {
            identity: EventIdentity {
                content: EventContent::of(Felt::from(entity), &state, at),
                occurrence,
            },
            state,
            created_at: at + 1,
            world_address: Felt::from(7u128),
            position: -(1 << 30) + i64::from(hp),
        }
    }

    fn batch() -> EventBatch {
        EventBatch {
            target: "feed".into(),
            snapshot: true,
            added: vec![
                event(1, 10, 100, 0),
                event(1, 10, 100, 1),
                event(2, 3, 101, 0),
            ],
            evicted: vec![event(3, 1, 50, 0).identity],
        }
    }

    #[test]
    fn a_batch_round_trips() {
        let batch = batch();
        let bytes = encode_event_batch(&batch).unwrap();
        assert_eq!(decode_event_batch(&bytes).unwrap(), batch);
        let empty = EventBatch::default();
        let bytes = encode_event_batch(&empty).unwrap();
        assert_eq!(decode_event_batch(&bytes).unwrap(), empty);
    }

    /// The batches the package's tests feed the real view (`js/test/events.test.mjs`), as hex:
    /// the stored log of `feed` (3 events) and of `other` (1), a live change of `feed` adding
    /// 2 and evicting its oldest, then one of those 2 delivered again; then, for a target
    /// `walk`, a stored log of the 2 newest, a walk's page of the 2 oldest, and the one between.
    #[test]
    fn the_js_fixture_is_these_batches() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../js/test/fixtures/event-batches.json"
        );
        let (a, b, c) = (
            event(1, 1, 100, 0),
            event(2, 2, 101, 0),
            event(1, 3, 101, 0),
        );
        let (d, e) = (event(2, 4, 102, 0), event(1, 5, 103, 0));
        let batches = [
            EventBatch {
                target: "feed".into(),
                snapshot: true,
                added: vec![a.clone(), b.clone(), c.clone()],
                evicted: vec![],
            },
            EventBatch {
                target: "other".into(),
                snapshot: true,
                added: vec![a.clone()],
                evicted: vec![],
            },
            EventBatch {
                target: "feed".into(),
                snapshot: false,
                added: vec![d.clone(), e.clone()],
                evicted: vec![a.identity.clone()],
            },
            EventBatch {
                target: "feed".into(),
                snapshot: false,
                added: vec![d.clone()],
                evicted: vec![],
            },
            EventBatch {
                target: "walk".into(),
                snapshot: true,
                added: vec![d, e],
                evicted: vec![],
            },
            EventBatch {
                target: "walk".into(),
                snapshot: false,
                added: vec![a, b],
                evicted: vec![],
            },
            EventBatch {
                target: "walk".into(),
                snapshot: false,
                added: vec![c],
                evicted: vec![],
            },
        ];
        let hex: Vec<String> = batches
            .iter()
            .map(|b| hex::encode(encode_event_batch(b).unwrap()))
            .collect();
        let expected = serde_json::to_string_pretty(&hex).unwrap() + "\n";
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(fixture, &expected).unwrap();
        }
        let stored = std::fs::read_to_string(fixture).unwrap_or_default();
        assert!(
            stored == expected,
            "js/test/fixtures/event-batches.json is out of date: UPDATE_FIXTURES=1 cargo test -p \
             dojo-reactive-storage --lib event_batch"
        );
    }

    #[test]
    fn every_prefix_and_every_byte_flip_fails_cleanly() {
        let bytes = encode_event_batch(&batch()).unwrap();
        for len in 0..bytes.len() {
            assert!(decode_event_batch(&bytes[..len]).is_err(), "prefix {len}");
        }
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x5a;
            assert!(decode_event_batch(&flipped).is_err(), "flip at {i}");
        }
    }

    fn log_of(count: u32) -> EventLog {
        let mut log = EventLog::new(EventRetention::default());
        let rows = (0..count)
            .map(|i| IncomingEvent {
                entity: Felt::from(u128::from(i % 7)),
                state: Struct {
                    name: "ns-Moved".into(),
                    members: vec![Member {
                        name: "step".into(),
                        key: false,
                        value: Value::Primitive(Primitive::U32(i)),
                    }],
                },
                executed_at: 1_000 + u64::from(i / 3),
                created_at: 1_000,
                world_address: Felt::from(1u128),
            })
            .collect();
        log.apply(&mut Delivery::new(), rows, Placement::Arrival, 0);
        log
    }

    /// A stored log reaches the view newest first in bounded chunks, the first replacing what
    /// the view held, and together they are the log, each event once.
    #[test]
    fn a_stored_log_is_sent_newest_first_in_bounded_chunks() {
        let log = log_of(2_500);
        let chunks: Vec<EventBatch> = newest_first_chunks("feed", &log, 1_000).collect();
        let sizes: Vec<usize> = chunks.iter().map(|c| c.added.len()).collect();
        assert_eq!(sizes, [1_000, 1_000, 500]);
        let snapshots: Vec<bool> = chunks.iter().map(|c| c.snapshot).collect();
        assert_eq!(snapshots, [true, false, false]);
        assert!(chunks.iter().all(|c| c.target == "feed"));
        let newest: Vec<&LoggedEvent> = log.iter().rev().take(1_000).collect();
        assert_eq!(chunks[0].added.last(), newest.first().copied());
        // Each chunk is older than the one before, and oldest first within.
        let mut rebuilt: Vec<LoggedEvent> = Vec::new();
        for chunk in chunks.into_iter().rev() {
            rebuilt.extend(chunk.added);
        }
        let held: Vec<LoggedEvent> = log.iter().cloned().collect();
        assert_eq!(rebuilt, held);
    }

    /// An empty log is sent as one empty snapshot (the view drops what it held).
    #[test]
    fn an_empty_log_is_one_empty_snapshot() {
        let log = EventLog::new(EventRetention::default());
        let chunks: Vec<EventBatch> = newest_first_chunks("feed", &log, 1_000).collect();
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].snapshot && chunks[0].added.is_empty());
        let exact = log_of(2_000);
        assert_eq!(newest_first_chunks("feed", &exact, 1_000).count(), 2);
    }
}
