//! The event logs' records in the `event_log` store: one [`EventBatch`] per change of a target's
//! log, folded into one snapshot batch once a target has [`COMPACT_AFTER`] of them. Reading
//! them back gives each target's events since its last snapshot, in sequence order; restoring
//! them into an [`EventLog`] of the target's retention (which orders them, keeps each identity
//! once and evicts again what retention evicted) gives the log that wrote them. Beside them, the
//! metadata record [`META_EVENT_LOGS_WALKED`] names the targets whose first walk of the history
//! ended (their stored log holds all of their history within the retention, as of that walk).

use std::collections::{BTreeMap, HashMap};

use dojo_reactive_core::{EventLog, LogChange, LoggedEvent};

use crate::backend::{Backend, RecordKey, WriteOp, EVENT_LOG, META_EVENT_LOGS_WALKED};
use crate::codec::value::EncodeError;
use crate::codec::{DecodeError, DecodeErrorKind, Reader, Writer};
use crate::error::{SkippedRecord, StoreError};
use crate::event_batch::{
    decode_event_batch, encode_event_batch, encode_event_snapshot, EventBatch,
};

/// Batches a target keeps before they are folded into one snapshot.
pub const COMPACT_AFTER: usize = 64;

/// What the `event_log` store holds, per target id: the events of its batches since its last
/// snapshot (restore them into an [`EventLog`]).
#[derive(Debug, Default)]
pub struct StoredLogs {
    /// Each target's events, in the order stored.
    pub logs: BTreeMap<String, Vec<LoggedEvent>>,
    /// Records that could not be read (skipped, reported).
    pub skipped: Vec<SkippedRecord>,
}

/// The writer of the `event_log` store: numbers batches and knows which belong to each target.
#[derive(Debug, Default)]
pub struct EventStore {
    next_seq: u64,
    seqs: HashMap<String, Vec<u64>>,
    /// The targets whose first walk ended: (id, the digest of the definition walked), each id
    /// once (a few targets: a list costs the worker less code than a map).
    walked: Vec<(String, String)>,
}

impl EventStore {
    /// Reads every batch of the store and replays them (see the module documentation); the
    /// returned writer continues after the highest sequence number read.
    pub async fn load<B: Backend>(backend: &B) -> Result<(EventStore, StoredLogs), StoreError> {
        let mut store = EventStore::default();
        let mut stored = StoredLogs::default();
        let walked_key = RecordKey::Meta(META_EVENT_LOGS_WALKED);
        if let Some(Some(raw)) = backend.read(&[walked_key]).await?.pop() {
            let walked = raw.and_then(|bytes| decode_walked(&bytes).map_err(|e| e.to_string()));
            match walked {
                Ok(walked) => store.walked = walked,
                // Unreadable: every log walks its history again (nothing is lost).
                Err(message) => stored.skipped.push(SkippedRecord {
                    store: crate::backend::METADATA,
                    key: walked_key.to_string(),
                    error: StoreError::Foreign {
                        what: walked_key.to_string(),
                        message,
                    },
                }),
            }
        }
        for raw in backend.read_event_batches().await? {
            let key = match &raw.seq {
                Ok(seq) => RecordKey::EventBatch(*seq).to_string(),
                Err(printed) => format!("{EVENT_LOG}[{printed}]"),
            };
            let seq = match raw.seq {
                Ok(seq) => seq,
                Err(printed) => {
                    stored.skipped.push(SkippedRecord {
                        store: EVENT_LOG,
                        error: StoreError::Foreign {
                            what: key.clone(),
                            message: format!("the key {printed} is not a sequence number"),
                        },
                        key,
                    });
                    continue;
                }
            };
            let batch = match raw.value {
                Err(message) => Err(StoreError::Foreign {
                    what: key.clone(),
                    message,
                }),
                Ok(bytes) => decode_event_batch(&bytes).map_err(|e| StoreError::corrupt(&key, e)),
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    stored.skipped.push(SkippedRecord {
                        store: EVENT_LOG,
                        key,
                        error,
                    });
                    continue;
                }
            };
            store.next_seq = store.next_seq.max(seq.saturating_add(1));
            store
                .seqs
                .entry(batch.target.clone())
                .or_default()
                .push(seq);
            let events = stored.logs.entry(batch.target).or_default();
            if batch.snapshot {
                events.clear();
            }
            events.extend(batch.added);
        }
        Ok((store, stored))
    }

    /// The writes that store one change of `target`'s log: its batch, or, once the target has
    /// [`COMPACT_AFTER`] batches, a snapshot of `log` (already changed) replacing them all.
    pub fn append(
        &mut self,
        target: &str,
        change: &LogChange,
        log: &EventLog,
    ) -> Result<Vec<WriteOp>, StoreError> {
        if self.seqs.get(target).map_or(0, Vec::len) + 1 >= COMPACT_AFTER {
            return self.snapshot(target, log);
        }
        let batch = EventBatch {
            target: target.to_owned(),
            snapshot: false,
            added: change.added.clone(),
            evicted: change.evicted.clone(),
        };
        let bytes = encoded(target, encode_event_batch(&batch))?;
        Ok(vec![self.put(target, bytes)])
    }

    /// The writes that replace every batch of `target` with one snapshot of `log` (encoded from
    /// the log itself: a large log is not copied).
    pub fn snapshot(&mut self, target: &str, log: &EventLog) -> Result<Vec<WriteOp>, StoreError> {
        let bytes = encoded(target, encode_event_snapshot(target, log.iter()))?;
        let mut ops = self.remove_batches(target);
        ops.push(self.put(target, bytes));
        Ok(ops)
    }

    /// The writes that drop the events of `models` from every log of `stored` (read by
    /// [`EventStore::load`] with this writer): a deploy changed or removed those models, so
    /// their stored events have a shape the code no longer reads. A log that loses events is
    /// stored again as one snapshot and loses its walked mark, so its next start walks the
    /// history whole again and refills them in their new shape.
    pub fn drop_models(
        &mut self,
        stored: &StoredLogs,
        models: &[&str],
    ) -> Result<Vec<WriteOp>, StoreError> {
        let mut ops = Vec::new();
        for (target, events) in &stored.logs {
            let dropped = |event: &&LoggedEvent| models.contains(&event.model());
            if !events.iter().any(|event| dropped(&event)) {
                continue;
            }
            let kept: Vec<&LoggedEvent> = events.iter().filter(|event| !dropped(event)).collect();
            let bytes = encoded(target, encode_event_snapshot(target, kept.into_iter()))?;
            ops.extend(self.remove(target));
            ops.push(self.put(target, bytes));
        }
        Ok(ops)
    }

    /// The writes that delete every batch of `target` (a target removed or changed), and its
    /// walked mark.
    pub fn remove(&mut self, target: &str) -> Vec<WriteOp> {
        let mut ops = self.remove_batches(target);
        let marks = self.walked.len();
        self.walked.retain(|(id, _)| id != target);
        if self.walked.len() != marks {
            ops.push(self.walked_op());
        }
        ops
    }

    /// The writes that delete every batch of `target`.
    fn remove_batches(&mut self, target: &str) -> Vec<WriteOp> {
        self.seqs
            .remove(target)
            .unwrap_or_default()
            .into_iter()
            .map(|seq| WriteOp::Delete(RecordKey::EventBatch(seq)))
            .collect()
    }

    /// The digest of the definition of `target` whose first walk of the history ended (its
    /// stored log then held its whole history within the retention); `None` when none did.
    pub fn walked(&self, target: &str) -> Option<&str> {
        self.walked
            .iter()
            .find(|(id, _)| id == target)
            .map(|(_, digest)| digest.as_str())
    }

    /// The write that marks `target` (defined as `digest` says) walked.
    pub fn mark_walked(&mut self, target: &str, digest: &str) -> WriteOp {
        self.walked.retain(|(id, _)| id != target);
        self.walked.push((target.to_owned(), digest.to_owned()));
        self.walked_op()
    }

    /// The write of the walked marks as they are.
    fn walked_op(&self) -> WriteOp {
        let key = RecordKey::Meta(META_EVENT_LOGS_WALKED);
        let mut w = Writer::with_capacity(64 * self.walked.len() + 16);
        w.bytes(WALKED_MAGIC);
        w.u8(WALKED_FORMAT);
        w.len(self.walked.len());
        for (id, digest) in &self.walked {
            w.str(id);
            w.str(digest);
        }
        WriteOp::Put(key, w.finish())
    }

    /// The targets that have batches or a walked mark stored.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        let marked_only = self
            .walked
            .iter()
            .map(|(id, _)| id)
            .filter(|id| !self.seqs.contains_key(*id));
        self.seqs.keys().chain(marked_only).map(String::as_str)
    }

    /// The write of one encoded batch of `target`, numbered next.
    fn put(&mut self, target: &str, bytes: Vec<u8>) -> WriteOp {
        let seq = self.next_seq;
        self.next_seq = seq.saturating_add(1);
        self.seqs.entry(target.to_owned()).or_default().push(seq);
        WriteOp::Put(RecordKey::EventBatch(seq), bytes)
    }
}

const WALKED_MAGIC: &[u8; 3] = b"DRW";
const WALKED_FORMAT: u8 = 1;
const WALKED: &str = "walked marks";

/// Reads the walked marks (`"DRW" format:u8 count:varint (id:str digest:str)* checksum:4`).
fn decode_walked(bytes: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let mut r = Reader::checked(bytes, WALKED)?;
    let format = r.magic(WALKED_MAGIC, WALKED)?;
    if format != WALKED_FORMAT {
        return Err(r.error(DecodeErrorKind::UnsupportedVersion(format)));
    }
    let count = r.count(2, "walked mark count")?;
    let mut walked = Vec::with_capacity(count);
    for _ in 0..count {
        let id = r.str("walked target id")?.to_owned();
        let digest = r.str("walked digest")?.to_owned();
        walked.push((id, digest));
    }
    r.expect_end()?;
    Ok(walked)
}

/// An encoded batch of `target`, or the error that says which log could not be encoded.
fn encoded(target: &str, bytes: Result<Vec<u8>, EncodeError>) -> Result<Vec<u8>, StoreError> {
    bytes.map_err(|e| StoreError::Io(format!("an event of {target} cannot be encoded: {e}")))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use dojo_reactive_core::{
        Delivery, EventRetention, Felt, IncomingEvent, Member, Placement, Primitive, Struct, Value,
    };
    use futures_executor::block_on;

    use super::*;
    use crate::MemoryBackend;

    fn row(player: u128, step: u32, at: u64) -> IncomingEvent {
        row_of("ns-Moved", player, step, at)
    }

    fn row_of(model: &str, player: u128, step: u32, at: u64) -> IncomingEvent {
        IncomingEvent {
            entity: Felt::from(player),
            state: Struct {
                name: model.into(),
                members: vec![
                    Member {
                        name: "player".into(),
                        key: true,
                        value: Value::Primitive(Primitive::ContractAddress(Felt::from(player))),
                    },
                    Member {
                        name: "step".into(),
                        key: false,
                        value: Value::Primitive(Primitive::U32(step)),
                    },
                ],
            },
            executed_at: at,
            created_at: at,
            world_address: Felt::from(1u128),
        }
    }

    async fn write(backend: &MemoryBackend, ops: Vec<WriteOp>) {
        backend.write(ops).await.unwrap();
    }

    /// What was logged comes back in the log's order after every batch, past compactions,
    /// without what retention evicted and without another target's events.
    #[test]
    fn batches_replay_into_the_log_they_stored() {
        block_on(async {
            let backend = MemoryBackend::new();
            backend.open().await.unwrap();
            let (mut store, stored) = EventStore::load(&backend).await.unwrap();
            assert!(stored.logs.is_empty());
            let retention = EventRetention {
                count: Some(50),
                age_s: None,
            };
            let mut log = EventLog::new(retention);
            let mut other = EventLog::new(EventRetention::default());
            for i in 0..200u32 {
                let mut delivery = Delivery::new();
                let rows = vec![row(u128::from(i % 3), i, 1_000 + u64::from(i / 2))];
                let change = log.apply(&mut delivery, rows.clone(), Placement::Arrival, 0);
                write(&backend, store.append("feed", &change, &log).unwrap()).await;
                if i % 20 == 0 {
                    let change = other.apply(&mut Delivery::new(), rows, Placement::Arrival, 0);
                    write(&backend, store.append("other", &change, &other).unwrap()).await;
                }
            }
            let (mut reread, stored) = EventStore::load(&backend).await.unwrap();
            assert!(stored.skipped.is_empty());
            let held: Vec<LoggedEvent> = log.iter().cloned().collect();
            assert_eq!(held.len(), 50);
            let restored = |events: &[LoggedEvent]| {
                let mut log = EventLog::new(retention);
                log.restore(events.to_vec(), 0);
                log.iter().cloned().collect::<Vec<_>>()
            };
            assert_eq!(restored(&stored.logs["feed"]), held);
            assert_eq!(stored.logs["other"].len(), 10);
            assert!(backend.read_event_batches().await.unwrap().len() < COMPACT_AFTER + 10);
            // Removing a target deletes its records.
            write(&backend, reread.remove("other")).await;
            let (_, stored) = EventStore::load(&backend).await.unwrap();
            assert!(!stored.logs.contains_key("other"));
            assert_eq!(restored(&stored.logs["feed"]), held);
        });
    }

    /// A deploy that changed a model drops its events from every log that held some (the
    /// others stay, in order) with that log's walked mark, so it is walked again; a log without
    /// them keeps its records and its mark.
    #[test]
    fn dropping_a_models_events_keeps_the_others_and_walks_that_log_again() {
        block_on(async {
            let backend = MemoryBackend::new();
            backend.open().await.unwrap();
            let (mut store, _) = EventStore::load(&backend).await.unwrap();
            let mut feed = EventLog::new(EventRetention::default());
            let mut moves = EventLog::new(EventRetention::default());
            for i in 0..10u32 {
                let model = if i % 2 == 0 { "ns-Moved" } else { "ns-Spawned" };
                let rows = vec![row_of(model, u128::from(i % 3), i, 100 + u64::from(i))];
                let change = feed.apply(&mut Delivery::new(), rows, Placement::Arrival, 0);
                write(&backend, store.append("feed", &change, &feed).unwrap()).await;
            }
            for i in 0..3u32 {
                let rows = vec![row(1, i, 200 + u64::from(i))];
                let change = moves.apply(&mut Delivery::new(), rows, Placement::Arrival, 0);
                write(&backend, store.append("moves", &change, &moves).unwrap()).await;
            }
            let marks = vec![
                store.mark_walked("feed", "d1"),
                store.mark_walked("moves", "d2"),
            ];
            write(&backend, marks).await;
            let moves_records = backend.read_event_batches().await.unwrap().len() - 10;

            let (mut store, stored) = EventStore::load(&backend).await.unwrap();
            let ops = store.drop_models(&stored, &["ns-Spawned"]).unwrap();
            write(&backend, ops).await;
            let (store, stored) = EventStore::load(&backend).await.unwrap();
            assert!(stored.skipped.is_empty());
            let restored = |events: &[LoggedEvent]| {
                let mut log = EventLog::new(EventRetention::default());
                log.restore(events.to_vec(), 0);
                log.iter().cloned().collect::<Vec<_>>()
            };
            let kept: Vec<LoggedEvent> = feed
                .iter()
                .filter(|event| event.model() == "ns-Moved")
                .cloned()
                .collect();
            assert_eq!(kept.len(), 5);
            assert_eq!(restored(&stored.logs["feed"]), kept);
            assert_eq!(store.walked("feed"), None, "the feed is walked again");
            let held: Vec<LoggedEvent> = moves.iter().cloned().collect();
            assert_eq!(restored(&stored.logs["moves"]), held);
            assert_eq!(store.walked("moves"), Some("d2"));
            assert_eq!(
                backend.read_event_batches().await.unwrap().len(),
                moves_records + 1,
                "the feed is one snapshot, the moves' records untouched"
            );
        });
    }

    /// A walked mark is kept per target and definition, through compactions, read back by the
    /// next load, and removed with the target's log.
    #[test]
    fn walked_marks_survive_a_reload_until_the_target_is_removed() {
        block_on(async {
            let backend = MemoryBackend::new();
            backend.open().await.unwrap();
            let (mut store, _) = EventStore::load(&backend).await.unwrap();
            assert_eq!(store.walked("feed"), None);
            let mut log = EventLog::new(EventRetention::default());
            let change = log.apply(
                &mut Delivery::new(),
                vec![row(1, 1, 5)],
                Placement::Arrival,
                0,
            );
            let mut ops = store.append("feed", &change, &log).unwrap();
            ops.push(store.mark_walked("feed", "d1"));
            ops.push(store.mark_walked("empty", "d2"));
            write(&backend, ops).await;
            // Past a compaction (a snapshot of the log replaces its batches).
            for i in 0..COMPACT_AFTER as u32 {
                let rows = vec![row(2, i, 6 + u64::from(i))];
                let change = log.apply(&mut Delivery::new(), rows, Placement::Arrival, 0);
                write(&backend, store.append("feed", &change, &log).unwrap()).await;
            }
            let (mut store, stored) = EventStore::load(&backend).await.unwrap();
            assert!(stored.skipped.is_empty());
            assert_eq!(stored.logs["feed"].len(), 1 + COMPACT_AFTER);
            assert_eq!(store.walked("feed"), Some("d1"));
            assert_eq!(store.walked("empty"), Some("d2"));
            let mut targets: Vec<&str> = store.targets().collect();
            targets.sort_unstable();
            assert_eq!(targets, ["empty", "feed"]);
            let ops = [store.remove("feed"), store.remove("empty")].concat();
            write(&backend, ops).await;
            let (store, stored) = EventStore::load(&backend).await.unwrap();
            assert_eq!((store.walked("feed"), store.walked("empty")), (None, None));
            assert!(stored.logs.is_empty());
            assert_eq!(store.targets().count(), 0);
        });
    }

    /// A corrupt record (a batch, the walked marks) is skipped and reported; the others still
    /// load.
    #[test]
    fn a_corrupt_batch_is_skipped() {
        block_on(async {
            let backend = MemoryBackend::new();
            backend.open().await.unwrap();
            let (mut store, _) = EventStore::load(&backend).await.unwrap();
            let mut log = EventLog::new(EventRetention::default());
            let change = log.apply(
                &mut Delivery::new(),
                vec![row(1, 1, 5)],
                Placement::Arrival,
                0,
            );
            write(&backend, store.append("feed", &change, &log).unwrap()).await;
            backend
                .write_raw(RecordKey::EventBatch(99), Ok(vec![1, 2, 3]))
                .await
                .unwrap();
            let (_, stored) = EventStore::load(&backend).await.unwrap();
            assert_eq!(stored.logs["feed"].len(), 1);
            assert_eq!(stored.skipped.len(), 1);
            assert!(stored.skipped[0].key.contains("event_log[99]"));
            // Unreadable walked marks: reported, and no log counts as walked.
            backend
                .write_raw(RecordKey::Meta(META_EVENT_LOGS_WALKED), Ok(vec![1, 2, 3]))
                .await
                .unwrap();
            let (store, stored) = EventStore::load(&backend).await.unwrap();
            assert_eq!(stored.skipped.len(), 2);
            assert!(stored.skipped[0].key.contains(META_EVENT_LOGS_WALKED));
            assert_eq!(store.walked("feed"), None);
        });
    }
}
