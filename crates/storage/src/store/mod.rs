//! [`Storage`]: synced data over a [`Backend`], in chunked records.
//!
//! Each commit is one atomic write of one delta segment (every upsert, deletion and ledger entry
//! of the batch) plus the target's sync state; compaction folds deltas into pages when they
//! accumulate. Operations are serialised by an async lock, so the index always matches what is
//! stored.

mod compact;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod cursor_upgrade_tests;
mod index;
mod replay;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use dojo_reactive_core::sync::{
    Fingerprinter, LedgerEntry, ModelKey, ModelRecord, StoredTarget, StoredWrite, SyncBatch,
    TargetKind, TargetSyncState,
};
use dojo_reactive_core::{EntityId, FingerprintChange, ManifestFingerprint};
use futures_util::lock::Mutex;

pub use compact::{CompactionConfig, CompactionStats};

use crate::backend::{
    Backend, RawSegment, RecordKey, WriteOp, META_FINGERPRINT, META_ORIGIN, META_TORII_VERSION,
    SYNC_META,
};
use crate::codec::sync_state::{decode_sync_state, encode_sync_state};
use crate::error::{
    OtherOriginError, SchemaMismatchError, SkippedRecord, StoreError, ToriiVersionChangedError,
};
use crate::event_store::EventStore;
use crate::naming::DataOrigin;
use crate::relay_mark::{decode_relay_mark, encode_relay_mark, relay_mark_key, RelayMark};
use crate::segment::{
    decode_segment, SegmentEncoder, SegmentKind, SlotWrite, StateOp, StateWrite, VersionOp,
    VersionWrite,
};
use index::{is_segment_number, IdMap, TargetIndex, VersionOpKind};
use replay::{replay, Keep, Replayed, Replayer};

/// Model states and ledger entries read back for some entities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    /// Model states.
    pub models: Vec<ModelRecord>,
    /// Ledger entries (of those states, and tombstones).
    pub ledger: Vec<LedgerEntry>,
}

/// Everything stored for a target, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The stored data.
    pub data: StoredTarget,
    /// Records that were skipped because they could not be decoded.
    pub skipped: Vec<SkippedRecord>,
}

/// Sizes of what is stored for a target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetStats {
    /// Delta segments (written by commits).
    pub deltas: usize,
    /// Pages (written by compaction).
    pub pages: usize,
    /// Bytes of all segments.
    pub bytes: usize,
    /// Stored model states.
    pub states: usize,
    /// Stored ledger entries.
    pub versions: usize,
}

/// What [`Storage::open`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// The Torii version the data was synced from (`None` before the first [`Storage::init`]
    /// recorded one).
    pub torii_version: Option<String>,
    /// The manifest the data was written for (`None` before a writer recorded one).
    pub stored: Option<ManifestFingerprint>,
    /// How the opening manifest differs from the stored one (empty when it does not):
    /// [`Storage::adopt_manifest`] drops the data of changed and removed models.
    pub changes: Vec<FingerprintChange>,
}

/// What is recorded about the data.
struct Meta {
    fingerprint: Option<ManifestFingerprint>,
    torii_version: Option<String>,
    origin: Option<DataOrigin>,
}

#[derive(Default)]
struct Inner {
    initialized: bool,
    /// The manifest hash matched at `init`, but the Torii version did not (yet accepted).
    fingerprint_matched: Option<String>,
    targets: HashMap<TargetKind, TargetIndex>,
    skipped: Vec<SkippedRecord>,
    compaction_error: Option<StoreError>,
}

/// Synced data of one world over a [`Backend`]: the [`StorageAdapter`] of the synchronizer
/// (see [`crate::adapter`]), plus point reads, ranges, pruning and compaction.
///
/// [`StorageAdapter`]: dojo_reactive_core::sync::StorageAdapter
pub struct Storage<B: Backend> {
    backend: B,
    config: CompactionConfig,
    lock: Mutex<()>,
    inner: RefCell<Inner>,
}

impl<B: Backend> Storage<B> {
    /// Storage over a backend, with the default compaction settings.
    pub fn new(backend: B) -> Self {
        Storage::with_config(backend, CompactionConfig::default())
    }

    /// Storage over a backend, with these compaction settings.
    pub fn with_config(backend: B, config: CompactionConfig) -> Self {
        Storage {
            backend,
            config,
            lock: Mutex::new(()),
            inner: RefCell::new(Inner::default()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Opens the backend and checks it against this manifest and origin, without Torii and
    /// without writing anything: a tab that does not lead only reads. Data of another origin
    /// fails with [`StoreError::OtherOrigin`]. Returns the Torii version the data was synced
    /// from, the manifest the data was written for and how this one differs from it; the
    /// switch to this manifest is [`Storage::adopt_manifest`], by the database's writer.
    pub async fn open(
        &self,
        fingerprint: &ManifestFingerprint,
        origin: &DataOrigin,
    ) -> Result<Opened, StoreError> {
        let _guard = self.lock.lock().await;
        self.inner.borrow_mut().initialized = false;
        let meta = self.read_meta().await?;
        check_origin(meta.origin.as_ref(), origin)?;
        let changes = match &meta.fingerprint {
            Some(stored) if stored.hash != fingerprint.hash => stored.diff(fingerprint),
            _ => Vec::new(),
        };
        self.inner.borrow_mut().initialized = true;
        Ok(Opened {
            torii_version: meta.torii_version,
            stored: meta.fingerprint,
            changes,
        })
    }

    /// Puts the database on this manifest and origin (the writer's step after it claimed the
    /// database, every write fenced like a commit): an empty store records both; data written
    /// for another manifest is kept for the models whose fingerprint entry did not change, the
    /// states, ledger entries and logged events of changed and removed models are dropped, the new
    /// fingerprint is recorded last, and every target's next start re-reads the whole snapshot
    /// (see [`Storage::require_replay`]), which refills changed and added models. Interrupted,
    /// it is done again by the next writer of this manifest. Who may switch is decided before
    /// (see [`crate::schema_switch`]). Returns what changed.
    pub async fn adopt_manifest(
        &self,
        fingerprint: &ManifestFingerprint,
        origin: &DataOrigin,
    ) -> Result<Vec<FingerprintChange>, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let meta = self.read_meta().await?;
        check_origin(meta.origin.as_ref(), origin)?;
        let changes = match &meta.fingerprint {
            Some(stored) if stored.hash != fingerprint.hash => Some(stored.diff(fingerprint)),
            _ => None,
        };
        if let Some(changes) = &changes {
            self.drop_models(changes).await?;
            self.require_replay_locked().await?;
        }
        let mut writes = Vec::new();
        if meta.origin.is_none() {
            writes.push(WriteOp::Put(
                RecordKey::Meta(META_ORIGIN),
                serde_json::to_vec(origin).map_err(|e| StoreError::Io(e.to_string()))?,
            ));
        }
        if meta.fingerprint.is_none() || changes.is_some() {
            writes.push(fingerprint_write(fingerprint)?);
        }
        if !writes.is_empty() {
            self.backend.write(writes).await?;
        }
        Ok(changes.unwrap_or_default())
    }

    /// The manifest the stored data was written for, read now (`None` before a writer recorded
    /// one): another tab's writer may have switched it since [`Storage::open`].
    pub async fn stored_manifest(&self) -> Result<Option<ManifestFingerprint>, StoreError> {
        let _guard = self.lock.lock().await;
        Ok(self.read_meta().await?.fingerprint)
    }

    /// Drops the stored states and ledger entries of the models a manifest change changed or
    /// removed, in every target, and their events from every event log (nothing is kept of
    /// them: the next pass re-reads them, the next start walks those logs again).
    async fn drop_models(&self, changes: &[FingerprintChange]) -> Result<(), StoreError> {
        let tags: Vec<&str> = changes
            .iter()
            .filter_map(|change| match change {
                FingerprintChange::Changed { tag } | FingerprintChange::Removed { tag } => {
                    Some(tag.as_str())
                }
                FingerprintChange::World | FingerprintChange::Added { .. } => None,
            })
            .collect();
        if tags.is_empty() {
            return Ok(());
        }
        for target in TargetKind::ALL {
            self.ensure_index(target).await?;
            let keys: Vec<ModelKey> = {
                let inner = self.inner.borrow();
                let Some(index) = inner.targets.get(&target) else {
                    continue;
                };
                tags.iter()
                    .flat_map(|tag| {
                        index
                            .model_entities(tag)
                            .into_iter()
                            .map(|entity| ModelKey {
                                entity,
                                model: (*tag).into(),
                            })
                    })
                    .collect()
            };
            if !keys.is_empty() {
                self.prune_locked(target, &keys).await?;
            }
        }
        // The event logs' events of those models: gone too, each log walked again.
        let (mut events, stored) = EventStore::load(&self.backend).await?;
        let ops = events.drop_models(&stored, &tags)?;
        if !ops.is_empty() {
            self.backend.write(ops).await?;
        }
        Ok(())
    }

    /// Makes every target's next start re-read the whole snapshot (a replay, not a catch-up):
    /// after a manifest change, or data kept across a Torii version change. Persisted: a start
    /// interrupted before the replay ended replays again.
    pub async fn require_replay(&self) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        self.require_replay_locked().await
    }

    async fn require_replay_locked(&self) -> Result<(), StoreError> {
        let mut writes = Vec::new();
        for target in TargetKind::ALL {
            let mut skipped = Vec::new();
            let state = self.read_sync_state(target, &mut skipped).await?;
            self.report(&skipped);
            if let Some(mut state) = state {
                // A restart catches up only from a known newest timestamp.
                state.last_timestamp = None;
                writes.push(WriteOp::Put(
                    RecordKey::SyncState(target),
                    encode_sync_state(&state),
                ));
            }
        }
        if !writes.is_empty() {
            self.backend.write(writes).await?;
        }
        Ok(())
    }

    /// Opens the backend and checks it against this manifest and Torii version; returns the
    /// manifest hash. An empty store records both. Fails with
    /// [`StoreError::SchemaMismatch`] when the data was written for another manifest and
    /// [`StoreError::ToriiVersionChanged`] when only the Torii version differs.
    pub async fn init(
        &self,
        fingerprint: &ManifestFingerprint,
        torii_version: &str,
    ) -> Result<String, StoreError> {
        let _guard = self.lock.lock().await;
        self.inner.borrow_mut().initialized = false;
        let meta = self.read_meta().await?;
        let mut writes = Vec::new();
        if meta.fingerprint.is_none() {
            writes.push(fingerprint_write(fingerprint)?);
        }
        check_fingerprint(meta.fingerprint.as_ref(), fingerprint)?;
        match meta.torii_version {
            None => writes.push(WriteOp::Put(
                RecordKey::Meta(META_TORII_VERSION),
                torii_version.as_bytes().to_vec(),
            )),
            Some(previous) if previous != torii_version => {
                self.inner.borrow_mut().fingerprint_matched = Some(fingerprint.hash.clone());
                return Err(ToriiVersionChangedError {
                    previous,
                    current: torii_version.to_owned(),
                }
                .into());
            }
            Some(_) => {}
        }
        if !writes.is_empty() {
            self.backend.write(writes).await?;
        }
        let mut inner = self.inner.borrow_mut();
        inner.initialized = true;
        inner.fingerprint_matched = None;
        Ok(fingerprint.hash.clone())
    }

    /// Opens the backend and reads what is recorded about the data.
    async fn read_meta(&self) -> Result<Meta, StoreError> {
        self.backend.open().await?;
        let keys = [
            RecordKey::Meta(META_FINGERPRINT),
            RecordKey::Meta(META_TORII_VERSION),
            RecordKey::Meta(META_ORIGIN),
        ];
        let stored = self.backend.read(&keys).await?;
        let mut bytes = Vec::with_capacity(keys.len());
        for (key, raw) in keys.iter().zip(stored) {
            bytes.push(match raw {
                None => None,
                Some(raw) => Some(raw.map_err(|message| StoreError::Foreign {
                    what: key.to_string(),
                    message,
                })?),
            });
        }
        let foreign = |key: &RecordKey, message: String| StoreError::Foreign {
            what: key.to_string(),
            message,
        };
        let mut bytes = bytes.into_iter();
        let (fingerprint, version, origin) = (
            bytes.next().flatten(),
            bytes.next().flatten(),
            bytes.next().flatten(),
        );
        Ok(Meta {
            fingerprint: fingerprint
                .map(|b| serde_json::from_slice(&b).map_err(|e| foreign(&keys[0], e.to_string())))
                .transpose()?,
            torii_version: version
                .map(|b| String::from_utf8(b).map_err(|e| foreign(&keys[1], e.to_string())))
                .transpose()?,
            origin: origin
                .map(|b| serde_json::from_slice(&b).map_err(|e| foreign(&keys[2], e.to_string())))
                .transpose()?,
        })
    }

    /// After `init` failed with [`StoreError::ToriiVersionChanged`], keeps the stored data:
    /// records the new Torii version and completes the initialisation (again after a second
    /// caller's `init` failed the same way: both may accept).
    pub async fn accept_torii_version(&self, torii_version: &str) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        let accepting = {
            let inner = self.inner.borrow();
            inner.fingerprint_matched.is_some() || inner.initialized
        };
        if !accepting {
            return Err(StoreError::NotInitialized);
        }
        self.backend
            .write(vec![WriteOp::Put(
                RecordKey::Meta(META_TORII_VERSION),
                torii_version.as_bytes().to_vec(),
            )])
            .await?;
        let mut inner = self.inner.borrow_mut();
        inner.initialized = true;
        inner.fingerprint_matched = None;
        Ok(())
    }

    fn check_init(&self) -> Result<(), StoreError> {
        if self.inner.borrow().initialized {
            Ok(())
        } else {
            Err(StoreError::NotInitialized)
        }
    }

    fn report(&self, skipped: &[SkippedRecord]) {
        self.inner.borrow_mut().skipped.extend_from_slice(skipped);
    }

    /// Records skipped since the last call (undecodable segments or sync states).
    pub fn take_skipped(&self) -> Vec<SkippedRecord> {
        std::mem::take(&mut self.inner.borrow_mut().skipped)
    }

    /// The last compaction failure, if the last compaction after a commit failed (the commit
    /// itself succeeded; compaction is retried after the next one).
    pub fn compaction_error(&self) -> Option<StoreError> {
        self.inner.borrow().compaction_error.clone()
    }

    /// Builds the index of a target if it is not built yet.
    async fn ensure_index(&self, target: TargetKind) -> Result<(), StoreError> {
        if self.inner.borrow().targets.contains_key(&target) {
            return Ok(());
        }
        let raw = self.backend.read_segments(target).await?;
        let replayed = replay(target, raw, Keep::Index);
        self.report(&replayed.skipped);
        self.inner
            .borrow_mut()
            .targets
            .insert(target, replayed.index);
        Ok(())
    }

    /// Everything stored for a target: one read of all its segments, their record heads and
    /// ledger entries decoded here; the model states stay in their segments' encoding until
    /// something reads them ([`StoredRecord::get`]). Segments and records that cannot be
    /// decoded are skipped and listed in [`Loaded::skipped`].
    ///
    /// [`StoredRecord::get`]: dojo_reactive_core::sync::StoredRecord::get
    pub async fn load(&self, target: TargetKind) -> Result<Loaded, StoreError> {
        self.load_with_segments(target, &mut |_| {}).await
    }

    /// [`Storage::load`], also handing every readable segment to `sink` in sequence order (as
    /// [`Storage::scan_raw`] does): for a start-up that ships the stored data elsewhere too.
    pub async fn load_with_segments(
        &self,
        target: TargetKind,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Loaded, StoreError> {
        self.load_keeping(target, Keep::Encoded, sink).await
    }

    /// [`Storage::load`] for a start-up that restores what it reads as it reads it and keeps
    /// only a fingerprint of each model state: each write is handed to `seed` as its segment is
    /// replayed, in the order it was stored (a record's version before its state; the states
    /// fingerprinted `with`), and
    /// nothing of it is returned or kept here: the load holds one chunk of segments at a time
    /// besides the index. The [`Loaded`] it returns has no states and no ledger entries.
    pub async fn load_seeding(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
    ) -> Result<Loaded, StoreError> {
        self.load_seeding_with_segments(target, with, seed, &mut |_| {})
            .await
    }

    /// [`Storage::load_seeding`], also handing every readable segment to `sink` as
    /// [`Storage::load_with_segments`] does.
    pub async fn load_seeding_with_segments(
        &self,
        target: TargetKind,
        with: &Fingerprinter,
        seed: &mut dyn FnMut(StoredWrite),
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Loaded, StoreError> {
        self.load_or_seed(target, Keep::Seed(with.clone()), seed, sink)
            .await
    }

    async fn load_keeping(
        &self,
        target: TargetKind,
        keep: Keep,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Loaded, StoreError> {
        self.load_or_seed(target, keep, &mut |_| {}, sink).await
    }

    async fn load_or_seed(
        &self,
        target: TargetKind,
        keep: Keep,
        seed: &mut dyn FnMut(StoredWrite),
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Loaded, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let (replayed, _) = self.replay_segments(target, keep, seed, sink).await?;
        let mut skipped = replayed.skipped;
        let sync_state = self.read_sync_state(target, &mut skipped).await?;
        self.report(&skipped);
        self.inner
            .borrow_mut()
            .targets
            .insert(target, replayed.index);
        Ok(Loaded {
            data: StoredTarget {
                models: replayed.models,
                ledger: replayed.ledger,
                sync_state,
                skipped: skipped
                    .iter()
                    .map(|s| format!("{}/{}: {}", s.store, s.key, s.error))
                    .collect(),
            },
            skipped,
        })
    }

    /// What [`Storage::load`] returns, for these entities only: the segments holding a state
    /// or a ledger entry of one of them are read and replayed (states left encoded), the others
    /// not read. Without an index of the target yet, every segment is replayed.
    pub async fn load_entities(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<StoredTarget, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let seqs: Option<BTreeSet<u64>> = self
            .inner
            .borrow()
            .targets
            .get(&target)
            .map(|index| segments_holding(index, entities));
        let replayed = match seqs {
            None => {
                self.replay_segments(target, Keep::Encoded, &mut |_| {}, &mut |_| {})
                    .await?
                    .0
            }
            Some(seqs) => {
                let keys: Vec<RecordKey> = seqs
                    .iter()
                    .map(|seq| RecordKey::Segment(target, *seq))
                    .collect();
                let raw = self.backend.read(&keys).await?;
                let mut replayer = Replayer::new(target, Keep::Encoded);
                for (seq, value) in seqs.into_iter().zip(raw) {
                    if let Some(value) = value {
                        replayer.feed_one(
                            RawSegment {
                                seq: Ok(seq),
                                value,
                            },
                            &mut |_| {},
                        );
                    }
                }
                replayer.finish()
            }
        };
        self.report(&replayed.skipped);
        let mut data = StoredTarget {
            models: replayed.models,
            ledger: replayed.ledger,
            ..StoredTarget::default()
        };
        data.retain_entities(entities);
        // A segment read for one entity may hold a state of another (entity, model) deleted
        // or a version cleared by a segment not read: the index says what is live.
        if let Some(index) = self.inner.borrow().targets.get(&target) {
            let slot = |entity: &EntityId, model: &str| {
                index
                    .known_model(model)
                    .and_then(|m| index.slot(entity, m))
                    .copied()
            };
            data.models.retain(|record| {
                slot(record.entity(), record.model()).is_some_and(|s| s.has_state())
            });
            data.ledger
                .retain(|entry| slot(&entry.entity, &entry.model).is_some_and(|s| s.has_version()));
        }
        Ok(data)
    }

    /// Hands every readable segment of a target to `sink`, in sequence order, without decoding
    /// its states (the bytes are the format `decode_state_changes` reads: replaying them in
    /// order gives the stored states). Rebuilds the target's index on the way, reports
    /// unreadable segments like [`Storage::load`], and returns how many model states are stored.
    /// For a start-up that ships the stored data elsewhere before decoding it here.
    pub async fn scan_raw(
        &self,
        target: TargetKind,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, StoreError> {
        Ok(self.scan_raw_marked(target, sink).await?.0)
    }

    /// [`Storage::scan_raw`], also returning the target's relay mark as read in the scan's
    /// transaction: the segments sent hold exactly the relayed DELTAs up to it (see
    /// [`crate::relay_mark`]).
    pub async fn scan_raw_marked(
        &self,
        target: TargetKind,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(usize, Option<RelayMark>), StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let (replayed, mark) = self
            .replay_segments(target, Keep::Index, &mut |_| {}, sink)
            .await?;
        self.report(&replayed.skipped);
        let (states, _) = replayed.index.totals();
        self.inner
            .borrow_mut()
            .targets
            .insert(target, replayed.index);
        Ok((states, mark))
    }

    /// Reads every segment of a target in sequence order and replays it (keeping of the states
    /// what `keep` says); each segment that decodes is also handed to `sink`. Returns the
    /// replay and the target's relay mark, read in the same snapshot.
    async fn replay_segments(
        &self,
        target: TargetKind,
        keep: Keep,
        seed: &mut dyn FnMut(StoredWrite),
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(Replayed, Option<RelayMark>), StoreError> {
        let mut replayer = Replayer::new(target, keep);
        let with = self
            .backend
            .scan_segments(target, &[relay_mark_key(target)], &mut |chunk| {
                for segment in chunk {
                    if let Some(bytes) = replayer.feed_one(segment, seed) {
                        sink(&bytes);
                    }
                }
            })
            .await?;
        let mark = decode_relay_mark(with.into_iter().next().flatten());
        Ok((replayer.finish(), mark))
    }

    async fn read_sync_state(
        &self,
        target: TargetKind,
        skipped: &mut Vec<SkippedRecord>,
    ) -> Result<Option<TargetSyncState>, StoreError> {
        let key = RecordKey::SyncState(target);
        let raw = self
            .backend
            .read(&[key])
            .await?
            .into_iter()
            .next()
            .flatten();
        let decoded = match raw {
            None => return Ok(None),
            Some(Err(message)) => Err(StoreError::Foreign {
                what: key.to_string(),
                message,
            }),
            Some(Ok(bytes)) => {
                decode_sync_state(&bytes).map_err(|e| StoreError::corrupt(key.to_string(), e))
            }
        };
        match decoded {
            Ok(state) => Ok(Some(state)),
            Err(error) => {
                skipped.push(SkippedRecord {
                    store: SYNC_META,
                    key: key.to_string(),
                    error,
                });
                Ok(None)
            }
        }
    }

    /// The stored sync state of a target (`None` if none was written, or if it cannot be
    /// decoded: then it is reported through [`Storage::take_skipped`]).
    pub async fn sync_state(
        &self,
        target: TargetKind,
    ) -> Result<Option<TargetSyncState>, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let mut skipped = Vec::new();
        let state = self.read_sync_state(target, &mut skipped).await?;
        self.report(&skipped);
        Ok(state)
    }

    /// The target's relay mark: the newest relayed DELTA the store holds (`None` when none
    /// was stored or it cannot be read). [`Storage::scan_raw_marked`] reads it with the data.
    pub async fn relay_mark(&self, target: TargetKind) -> Result<Option<RelayMark>, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let raw = self.backend.read(&[relay_mark_key(target)]).await?;
        Ok(decode_relay_mark(raw.into_iter().next().flatten()))
    }

    /// Writes a batch atomically: one delta segment with its upserts, deletions and ledger
    /// entries, and the sync state, in one transaction. Compacts afterwards when due.
    pub async fn commit(&self, batch: &SyncBatch) -> Result<(), StoreError> {
        self.commit_relayed(batch, None).await
    }

    /// [`Storage::commit`], also storing in the same transaction the target's relay mark: the
    /// newest relayed DELTA whose changes this batch holds (see [`crate::relay_mark`]).
    pub async fn commit_relayed(
        &self,
        batch: &SyncBatch,
        mark: Option<RelayMark>,
    ) -> Result<(), StoreError> {
        self.write_relayed(batch, mark).await?;
        self.compact_if_due(batch.target).await;
        Ok(())
    }

    /// [`Storage::commit_relayed`] without the compaction that may follow: the batch is stored
    /// when it returns. A caller that tells others about the batch before compacting (the
    /// worker's DELTAs) calls [`Storage::compact_if_due`] afterwards.
    pub async fn write_relayed(
        &self,
        batch: &SyncBatch,
        mark: Option<RelayMark>,
    ) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        let target = batch.target;
        self.ensure_index(target).await?;
        let writes = slot_writes(batch);
        self.write_delta(target, &writes, batch.sync_state.as_ref(), mark)
            .await
    }

    /// Compacts `target` if the policy says it is due (what a commit does after its write); a
    /// failure is kept for [`Storage::compaction_error`].
    pub async fn compact_if_due(&self, target: TargetKind) {
        let _guard = self.lock.lock().await;
        if self.check_init().is_ok() {
            self.compact_after_write(target).await;
        }
    }

    /// Forgets model states and their ledger entries entirely (no tombstone is kept).
    pub async fn prune(&self, target: TargetKind, keys: &[ModelKey]) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        self.prune_locked(target, keys).await
    }

    async fn prune_locked(&self, target: TargetKind, keys: &[ModelKey]) -> Result<(), StoreError> {
        self.ensure_index(target).await?;
        let writes: Vec<SlotWrite<'_>> = keys
            .iter()
            .map(|key| SlotWrite {
                entity: &key.entity,
                model: &key.model,
                state: StateWrite::Delete,
                version: VersionWrite::Clear,
            })
            .collect();
        self.write_delta(target, &writes, None, None).await?;
        self.compact_after_write(target).await;
        Ok(())
    }

    async fn write_delta(
        &self,
        target: TargetKind,
        writes: &[SlotWrite<'_>],
        sync_state: Option<&TargetSyncState>,
        mark: Option<RelayMark>,
    ) -> Result<(), StoreError> {
        let seq = self
            .inner
            .borrow()
            .targets
            .get(&target)
            .map_or(0, |index| index.next_seq);
        // One record per `page_bytes` of writes: several segments, consecutive numbers, one
        // transaction.
        let mut ops = Vec::with_capacity(2);
        let mut segments: Vec<(u64, usize, std::ops::Range<usize>)> = Vec::new();
        let mut encoder = SegmentEncoder::new(SegmentKind::Delta, target);
        let mut first = 0;
        for (i, write) in writes.iter().enumerate() {
            encoder
                .push(*write)
                .map_err(|e| StoreError::InvalidBatch(e.to_string()))?;
            if encoder.size() >= self.config.page_bytes || i + 1 == writes.len() {
                let full = std::mem::replace(
                    &mut encoder,
                    SegmentEncoder::new(SegmentKind::Delta, target),
                );
                let bytes = full.finish();
                let number = seq + segments.len() as u64;
                segments.push((number, bytes.len(), first..i + 1));
                ops.push(WriteOp::Put(RecordKey::Segment(target, number), bytes));
                first = i + 1;
            }
        }
        if let Some(state) = sync_state {
            ops.push(WriteOp::Put(
                RecordKey::SyncState(target),
                encode_sync_state(state),
            ));
        }
        if let Some(mark) = &mark {
            ops.push(WriteOp::Put(
                relay_mark_key(target),
                encode_relay_mark(mark),
            ));
        }
        if ops.is_empty() {
            return Ok(());
        }
        if !segments
            .iter()
            .all(|(number, ..)| is_segment_number(*number))
        {
            return Err(StoreError::InvalidBatch(
                "the segment numbers are exhausted".into(),
            ));
        }
        self.backend.write(ops).await?;
        let mut inner = self.inner.borrow_mut();
        let index = inner.targets.entry(target).or_default();
        for (number, bytes, range) in segments {
            index.add_segment(number, SegmentKind::Delta, bytes);
            for write in writes.get(range).unwrap_or_default() {
                let model = index.model_id(write.model);
                let state = match write.state {
                    StateWrite::None => StateOp::None,
                    StateWrite::Upsert(_) => StateOp::Upsert,
                    StateWrite::Delete => StateOp::Delete,
                };
                let version = match write.version {
                    VersionWrite::None => VersionOpKind::None,
                    VersionWrite::Set(_) => VersionOpKind::Set,
                    VersionWrite::Clear => VersionOpKind::Clear,
                };
                index.record(number, write.entity, model, state, version);
            }
        }
        Ok(())
    }

    async fn compact_after_write(&self, target: TargetKind) {
        let result = self.compact_locked(target, false).await;
        self.inner.borrow_mut().compaction_error = result.err();
    }

    /// Compacts a target now: with `force`, folds every segment into pages; otherwise only
    /// when the policy says it is due. Returns what was done (all zero if nothing was).
    pub async fn compact(
        &self,
        target: TargetKind,
        force: bool,
    ) -> Result<CompactionStats, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        self.ensure_index(target).await?;
        self.compact_locked(target, force).await
    }

    async fn compact_locked(
        &self,
        target: TargetKind,
        force: bool,
    ) -> Result<CompactionStats, StoreError> {
        let merge = {
            let inner = self.inner.borrow();
            let Some(index) = inner.targets.get(&target) else {
                return Ok(CompactionStats::default());
            };
            match compact::plan(index, &self.config, force) {
                Some(merge) => merge,
                None => return Ok(CompactionStats::default()),
            }
        };
        let keys: Vec<RecordKey> = merge
            .iter()
            .map(|seq| RecordKey::Segment(target, *seq))
            .collect();
        let raw = self.backend.read(&keys).await?;
        let mut bytes = Vec::with_capacity(raw.len());
        for (key, value) in keys.iter().zip(raw) {
            match value {
                Some(Ok(value)) => bytes.push(value),
                Some(Err(message)) => {
                    return Err(StoreError::Foreign {
                        what: key.to_string(),
                        message,
                    })
                }
                None => return Err(StoreError::Io(format!("{key} vanished during compaction"))),
            }
        }
        let folded = {
            let mut inner = self.inner.borrow_mut();
            let Some(index) = inner.targets.get_mut(&target) else {
                return Ok(CompactionStats::default());
            };
            compact::fold(index, target, &merge, &bytes, &self.config)?
        };
        self.backend.write(folded.ops).await?;
        let mut inner = self.inner.borrow_mut();
        if let Some(index) = inner.targets.get_mut(&target) {
            index.apply_compaction(
                &merge,
                &folded.removed_copies,
                &folded.placed,
                &folded.pages,
            );
            index.unreadable.clear();
        }
        Ok(folded.stats)
    }

    /// The model states and ledger entries stored for these entities.
    pub async fn get(
        &self,
        target: TargetKind,
        entities: &[EntityId],
    ) -> Result<Records, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        self.ensure_index(target).await?;
        let wanted: BTreeSet<EntityId> = entities.iter().copied().collect();
        self.read_entities(target, &wanted).await
    }

    /// The model states and ledger entries of the entities with ids in `from..to` (ascending
    /// id order, at most `limit` entities): iterate by calling again from the last id + 1.
    pub async fn range(
        &self,
        target: TargetKind,
        from: &EntityId,
        to: &EntityId,
        limit: usize,
    ) -> Result<Records, StoreError> {
        let _guard = self.lock.lock().await;
        self.check_init()?;
        self.ensure_index(target).await?;
        let wanted: BTreeSet<EntityId> = {
            let inner = self.inner.borrow();
            let Some(index) = inner.targets.get(&target) else {
                return Ok(Records::default());
            };
            let mut ids: Vec<EntityId> = index
                .live_entities()
                .filter(|id| *id >= from && *id < to)
                .copied()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.truncate(limit);
            ids.into_iter().collect()
        };
        self.read_entities(target, &wanted).await
    }

    async fn read_entities(
        &self,
        target: TargetKind,
        wanted: &BTreeSet<EntityId>,
    ) -> Result<Records, StoreError> {
        let seqs: BTreeSet<u64> = {
            let inner = self.inner.borrow();
            let Some(index) = inner.targets.get(&target) else {
                return Ok(Records::default());
            };
            segments_holding(index, wanted)
        };
        let keys: Vec<RecordKey> = seqs
            .iter()
            .map(|seq| RecordKey::Segment(target, *seq))
            .collect();
        let raw = self.backend.read(&keys).await?;
        let mut records = Records::default();
        let mut skipped = Vec::new();
        let inner = self.inner.borrow();
        let Some(index) = inner.targets.get(&target) else {
            return Ok(records);
        };
        for ((seq, key), value) in seqs.iter().zip(&keys).zip(raw) {
            let bytes = match value {
                Some(Ok(bytes)) => bytes,
                Some(Err(message)) => {
                    skipped.push(SkippedRecord {
                        store: key.store(),
                        key: key.to_string(),
                        error: StoreError::Foreign {
                            what: key.to_string(),
                            message,
                        },
                    });
                    continue;
                }
                None => continue,
            };
            let view = match decode_segment(&bytes, target) {
                Ok(view) => view,
                Err(error) => {
                    skipped.push(SkippedRecord {
                        store: key.store(),
                        key: key.to_string(),
                        error: StoreError::corrupt(key.to_string(), error),
                    });
                    continue;
                }
            };
            for record in &view.records {
                if !wanted.contains(&record.entity) {
                    continue;
                }
                let Some(tag) = view.strings.get(record.model) else {
                    continue;
                };
                let Some(slot) = index
                    .known_model(tag)
                    .and_then(|m| index.slot(&record.entity, m))
                else {
                    continue;
                };
                if record.state == StateOp::Upsert && slot.state() == Some(*seq) {
                    match record.model_record(&view.strings) {
                        Ok(model) => records.models.push(model),
                        Err(error) => skipped.push(SkippedRecord {
                            store: key.store(),
                            key: format!("{key} entity {}", record.entity.to_hex()),
                            error: StoreError::corrupt("model state", error),
                        }),
                    }
                }
                if let VersionOp::Set(version) = &record.version {
                    if slot.version() == Some(*seq) {
                        records.ledger.push(LedgerEntry {
                            entity: record.entity,
                            model: tag.clone(),
                            version: *version,
                        });
                    }
                }
            }
        }
        drop(inner);
        self.report(&skipped);
        records
            .models
            .sort_by(|a, b| (a.entity, a.model()).cmp(&(b.entity, b.model())));
        records
            .ledger
            .sort_by(|a, b| (a.entity, &a.model).cmp(&(b.entity, &b.model)));
        Ok(records)
    }

    /// Sizes of what is stored for a target (`None` before the target is loaded or written).
    pub fn stats(&self, target: TargetKind) -> Option<TargetStats> {
        let inner = self.inner.borrow();
        let index = inner.targets.get(&target)?;
        let (states, versions) = index.totals();
        let mut stats = TargetStats {
            states,
            versions,
            ..TargetStats::default()
        };
        for info in index.segments.values() {
            match info.kind {
                SegmentKind::Delta => stats.deltas += 1,
                SegmentKind::Page => stats.pages += 1,
            }
            stats.bytes += info.bytes;
        }
        Some(stats)
    }

    /// Deletes everything, the recorded fingerprint and Torii version included (for IndexedDB,
    /// the database itself). `init` must be called again.
    pub async fn reset(&self) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        self.backend.destroy().await?;
        *self.inner.borrow_mut() = Inner::default();
        Ok(())
    }

    /// Closes the connection; `init` opens it again.
    pub fn close(&self) {
        self.backend.close();
        let mut inner = self.inner.borrow_mut();
        inner.initialized = false;
        inner.targets.clear();
    }
}

/// The sequence numbers of the segments holding a live state or ledger entry of one of
/// `entities`, in ascending order. Inserted one at a time: collecting a `BTreeSet` sorts, and a
/// sort of them is ~5 KB more of the worker's module.
fn segments_holding<'a>(
    index: &TargetIndex,
    entities: impl IntoIterator<Item = &'a EntityId>,
) -> BTreeSet<u64> {
    let mut seqs = BTreeSet::new();
    for entity in entities {
        for (_, slot) in index.entity_slots(entity) {
            if let Some(seq) = slot.state().filter(|_| slot.has_state()) {
                seqs.insert(seq);
            }
            if let Some(seq) = slot.version().filter(|_| slot.has_version()) {
                seqs.insert(seq);
            }
        }
    }
    seqs
}

/// The write recording `fingerprint`.
fn fingerprint_write(fingerprint: &ManifestFingerprint) -> Result<WriteOp, StoreError> {
    let json = serde_json::to_vec(fingerprint).map_err(|e| StoreError::Io(e.to_string()))?;
    Ok(WriteOp::Put(RecordKey::Meta(META_FINGERPRINT), json))
}

/// Fails when the stored data comes from another world or Torii.
fn check_origin(stored: Option<&DataOrigin>, origin: &DataOrigin) -> Result<(), StoreError> {
    match stored {
        Some(stored) if stored != origin => Err(OtherOriginError {
            stored: stored.clone(),
            current: origin.clone(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Fails when the stored data was written for another manifest.
fn check_fingerprint(
    stored: Option<&ManifestFingerprint>,
    fingerprint: &ManifestFingerprint,
) -> Result<(), StoreError> {
    match stored {
        Some(stored) if stored.hash != fingerprint.hash => Err(SchemaMismatchError {
            manifest_hash: fingerprint.hash.clone(),
            stored_hash: stored.hash.clone(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// The slot writes of a batch, one per (entity, model): upserts, then deletions (which clear
/// the version too), then ledger entries, a later write of the same facet replacing an earlier
/// one: a deletion without a ledger entry forgets the version (see [`SyncBatch::deletions`]).
fn slot_writes(batch: &SyncBatch) -> Vec<SlotWrite<'_>> {
    let mut writes: Vec<SlotWrite<'_>> =
        Vec::with_capacity(batch.upserts.len() + batch.deletions.len());
    let mut positions: IdMap<(EntityId, &str), usize> = IdMap::default();
    positions.reserve(writes.capacity());
    for record in &batch.upserts {
        if let Some(write) = slot(&mut writes, &mut positions, &record.entity, record.model()) {
            write.state = StateWrite::Upsert(record);
        }
    }
    for key in &batch.deletions {
        if let Some(write) = slot(&mut writes, &mut positions, &key.entity, &key.model) {
            write.state = StateWrite::Delete;
            // Forgotten with its version unless the batch gives it a tombstone (below).
            write.version = VersionWrite::Clear;
        }
    }
    for entry in &batch.ledger {
        if let Some(write) = slot(&mut writes, &mut positions, &entry.entity, &entry.model) {
            write.version = VersionWrite::Set(&entry.version);
        }
    }
    writes
}

fn slot<'a, 'w>(
    writes: &'w mut Vec<SlotWrite<'a>>,
    positions: &mut IdMap<(EntityId, &'a str), usize>,
    entity: &'a EntityId,
    model: &'a str,
) -> Option<&'w mut SlotWrite<'a>> {
    let position = *positions.entry((*entity, model)).or_insert_with(|| {
        writes.push(SlotWrite {
            entity,
            model,
            state: StateWrite::None,
            version: VersionWrite::None,
        });
        writes.len() - 1
    });
    writes.get_mut(position)
}
