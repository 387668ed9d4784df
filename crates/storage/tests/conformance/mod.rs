//! The storage conformance suite: one set of async cases, run against the memory backend
//! natively (`tests/native.rs`) and against IndexedDB in headless Chromium on the main thread
//! (`tests/browser.rs`) and in a dedicated worker (`tests/worker.rs`). Each runner implements
//! [`Harness`] and expands [`for_each_case!`] into its own test functions.

#![allow(dead_code)]

use std::collections::BTreeMap;

use dojo_reactive_core::sync::{
    LedgerEntry, ModelKey, ModelRecord, StorageAdapter, StorageErrorKind, StoredTarget, SyncBatch,
    TargetKind, TargetSyncState,
};
use dojo_reactive_core::{
    Delivery, EntityId, EnumValue, EventLog, EventRetention, Felt, FingerprintChange,
    FingerprintEntry, IncomingEvent, ManifestFingerprint, Member, Placement, Primitive,
    ResourceKind, Source, StateKind, Struct, Value, Version,
};
use dojo_reactive_storage::writer::{
    claim_writer, renew_writer, resign_writer, Claim, ClaimRule, WriterId,
};
use dojo_reactive_storage::{
    decode_state_changes, Backend, CompactionConfig, DataOrigin, EventStore, Fault,
    OtherOriginError, RecordKey, RelayMark, SchemaMismatchError, StateChange, Storage, StoreError,
    ToriiVersionChangedError,
};

/// What a runner provides: storages by name (the same name reaches the same stored data).
#[allow(async_fn_in_trait)]
pub trait Harness {
    /// The backend under test.
    type B: Backend;

    /// A new connection to the store `name`, not opened yet.
    fn storage_with(&self, name: &str, config: CompactionConfig) -> Storage<Self::B>;

    /// A unique store name for a case.
    fn unique(&self, case: &str) -> String;

    /// Deletes the store `name`.
    async fn cleanup(&self, name: &str);

    /// A new connection with the default compaction settings.
    fn storage(&self, name: &str) -> Storage<Self::B> {
        self.storage_with(name, CompactionConfig::default())
    }
}

/// Calls `$m!(case, ...)` with every case of the suite.
#[macro_export]
macro_rules! for_each_case {
    ($m:ident) => {
        $m!(
            round_trip,
            adapter_trait_round_trip,
            persists_across_close_and_reopen,
            interrupted_batch_leaves_neither_entities_nor_cursor,
            quota_exceeded_is_typed_and_stores_nothing,
            schema_mismatch_and_torii_version_changed,
            a_manifest_change_keeps_the_unchanged_models,
            a_database_of_another_world_is_refused,
            reset_drops_everything,
            deletions_tombstones_and_prune,
            compaction_preserves_state,
            corrupt_records_are_skipped_and_reported,
            raw_segments_replay_to_the_stored_states,
            use_before_init_is_an_error,
            get_and_range_reads,
            one_writer_at_a_time,
            an_old_manifest_never_claims_over_a_new_one,
            relay_marks_are_stored_with_their_batch
        );
    };
}

// ---- data -----------------------------------------------------------------------------------

pub const TARGET: TargetKind = TargetKind::Entities;

pub fn fingerprint(hash: &str) -> ManifestFingerprint {
    ManifestFingerprint {
        hash: hash.to_owned(),
        world_class_hash: Felt::from(0xc1a55u128).to_hex(),
        entries: Vec::new(),
    }
}

/// A fingerprint of these models, each `(tag, signature)`.
pub fn models_fingerprint(hash: &str, models: &[(&str, &str)]) -> ManifestFingerprint {
    ManifestFingerprint {
        entries: models
            .iter()
            .map(|(tag, signature)| FingerprintEntry {
                tag: (*tag).to_owned(),
                kind: ResourceKind::Model,
                class_hash: Felt::from(1u128).to_hex(),
                signature: (*signature).to_owned(),
                member_count: 1,
            })
            .collect(),
        ..fingerprint(hash)
    }
}

/// The origin of the test world.
pub fn origin() -> DataOrigin {
    DataOrigin::new("http://127.0.0.1:8080", &Felt::from(0x7u128))
}

pub fn id(n: u64) -> EntityId {
    // Spread ids over the whole felt range, as Poseidon hashes are.
    let mut bytes =
        Felt::from(u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)).0;
    bytes[0] = (n % 7) as u8;
    Felt(bytes)
}

fn prim(p: Primitive) -> Value {
    Value::Primitive(p)
}

fn member(name: &str, key: bool, value: Value) -> Member {
    Member {
        name: name.to_owned().into(),
        key,
        value,
    }
}

/// A model state of about 300 encoded bytes (11 members, nested struct, enum and array).
pub fn player(n: u64, hp: u32) -> ModelRecord {
    let entity = id(n);
    ModelRecord {
        entity,
        world_address: Felt::from(0x0123_4567_89ab_cdefu128),
        state: Struct {
            name: "arena-Player".to_owned().into(),
            members: vec![
                member("player", true, prim(Primitive::ContractAddress(entity))),
                member(
                    "name",
                    false,
                    Value::ByteArray(format!("player number {n}")),
                ),
                member("hp", false, prim(Primitive::U32(hp))),
                member(
                    "gold",
                    false,
                    prim(Primitive::U128(u128::from(n) * 1_000_003)),
                ),
                member(
                    "position",
                    false,
                    Value::Struct(Struct {
                        name: "Vec2".into(),
                        members: vec![
                            member("x", false, prim(Primitive::I32(n as i32 % 1000 - 500))),
                            member("y", false, prim(Primitive::I32((n as i32 * 7) % 1000))),
                        ],
                    }),
                ),
                member(
                    "class",
                    false,
                    Value::Enum(EnumValue {
                        name: "Class".into(),
                        option: (n % 3) as u32,
                        variant: ["Warrior", "Mage", "Rogue"][(n % 3) as usize].into(),
                        value: Box::new(Value::unit()),
                    }),
                ),
                member(
                    "inventory",
                    false,
                    Value::Array(
                        (0..6)
                            .map(|i| prim(Primitive::Felt252(Felt::from(u128::from(n) << 64 | i))))
                            .collect(),
                    ),
                ),
                member(
                    "title",
                    false,
                    Value::ByteArray(format!("champion of arena {}", n % 97)),
                ),
                member("guild", false, prim(Primitive::ContractAddress(id(n / 50)))),
                member("alive", false, prim(Primitive::Bool(hp > 0))),
                member("last_move", false, prim(Primitive::U64(1_700_000_000 + n))),
            ],
        },
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000 + u64::from(hp),
        executed_at: 1_700_000_000 + u64::from(hp),
    }
}

pub fn item(n: u64) -> ModelRecord {
    let entity = id(n);
    ModelRecord {
        entity,
        world_address: Felt::from(0x0123_4567_89ab_cdefu128),
        state: Struct {
            name: "arena-Item".to_owned().into(),
            members: vec![
                member("owner", true, prim(Primitive::ContractAddress(entity))),
                member("power", false, prim(Primitive::U8((n % 256) as u8))),
            ],
        },
        created_at: 1,
        updated_at: 2,
        executed_at: 3,
    }
}

pub fn write_version(seq: u64) -> Version {
    Version {
        source: Source::Stream { epoch: 1, seq },
        executed_at: 1_700_000_000 + seq,
        updated_at: 1_700_000_000 + seq,
        state: StateKind::Write,
        game: None,
    }
}

pub fn tombstone(seq: u64) -> Version {
    Version {
        state: StateKind::Deleted,
        ..write_version(seq)
    }
}

pub fn entry(record: &ModelRecord, version: Version) -> LedgerEntry {
    LedgerEntry {
        entity: record.entity,
        model: record.model().to_owned().into(),
        version,
    }
}

pub fn cursor(text: &str, pages: u64) -> TargetSyncState {
    TargetSyncState {
        cursor: Some(text.to_owned()),
        snapshot_complete: false,
        pages_read: pages,
        last_synced_at: Some(1_700_000_000_000 + pages),
        last_timestamp: Some(1_700_000_000),
        updated_at: pages,
        scopes: Vec::new(),
    }
}

/// A batch upserting `records`, each with a write version, and setting the cursor.
pub fn upserts(records: Vec<ModelRecord>, seq: u64, sync: Option<TargetSyncState>) -> SyncBatch {
    let mut batch = SyncBatch::new(TARGET);
    batch.ledger = records
        .iter()
        .map(|r| entry(r, write_version(seq)))
        .collect();
    batch.upserts = records;
    batch.sync_state = sync;
    batch
}

/// The stored data in a canonical order.
pub fn sorted(mut data: StoredTarget) -> StoredTarget {
    data.models
        .sort_by_key(|m| (*m.entity(), m.model().to_owned()));
    data.ledger
        .sort_by(|a, b| (a.entity, &a.model).cmp(&(b.entity, &b.model)));
    data
}

/// A reference model of what must be stored, fed with the same batches.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Reference {
    pub models: BTreeMap<(EntityId, String), ModelRecord>,
    pub ledger: BTreeMap<(EntityId, String), Version>,
    pub sync_state: Option<TargetSyncState>,
}

impl Reference {
    pub fn apply(&mut self, batch: &SyncBatch) {
        for r in &batch.upserts {
            self.models
                .insert((r.entity, r.model().to_owned()), r.clone());
        }
        for k in &batch.deletions {
            self.models.remove(&(k.entity, k.model.to_string()));
            // A deletion without a ledger entry forgets the version too.
            self.ledger.remove(&(k.entity, k.model.to_string()));
        }
        for e in &batch.ledger {
            self.ledger
                .insert((e.entity, e.model.to_string()), e.version);
        }
        if batch.sync_state.is_some() {
            self.sync_state = batch.sync_state.clone();
        }
    }

    pub fn prune(&mut self, keys: &[ModelKey]) {
        for k in keys {
            self.models.remove(&(k.entity, k.model.to_string()));
            self.ledger.remove(&(k.entity, k.model.to_string()));
        }
    }

    pub fn expected(&self) -> StoredTarget {
        sorted(StoredTarget {
            models: self.models.values().cloned().map(Into::into).collect(),
            ledger: self
                .ledger
                .iter()
                .map(|((entity, model), version)| LedgerEntry {
                    entity: *entity,
                    model: model.clone().into(),
                    version: *version,
                })
                .collect(),
            sync_state: self.sync_state.clone(),
            skipped: Vec::new(),
        })
    }
}

pub async fn load<B: Backend>(storage: &Storage<B>) -> StoredTarget {
    let loaded = storage.load(TARGET).await.expect("load");
    assert!(
        loaded.skipped.is_empty(),
        "unexpected skipped records: {:?}",
        loaded.skipped
    );
    sorted(loaded.data)
}

pub async fn opened<H: Harness>(h: &H, name: &str) -> Storage<H::B> {
    let storage = h.storage(name);
    storage
        .init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
        .await
        .expect("init");
    storage
}

// ---- cases ----------------------------------------------------------------------------------

/// A batch is read back exactly: states, ledger, cursor.
pub async fn round_trip<H: Harness>(h: &H) {
    let name = h.unique("round_trip");
    let storage = opened(h, &name).await;
    assert_eq!(load(&storage).await, StoredTarget::default());
    let batch = upserts(
        (0..50)
            .map(|n| player(n, 100))
            .chain((0..10).map(item))
            .collect(),
        1,
        Some(cursor("c1", 1)),
    );
    storage.commit(&batch).await.expect("commit");
    let mut reference = Reference::default();
    reference.apply(&batch);
    assert_eq!(load(&storage).await, reference.expected());
    assert_eq!(
        storage.sync_state(TARGET).await.expect("sync state"),
        Some(cursor("c1", 1))
    );
    assert_eq!(
        storage
            .sync_state(TargetKind::EventMessages)
            .await
            .expect("other target"),
        None
    );
    let other = storage
        .load(TargetKind::EventMessages)
        .await
        .expect("other target");
    assert_eq!(other.data, StoredTarget::default());
    storage.close();
    h.cleanup(&name).await;
}

/// The same through the core's `StorageAdapter` trait.
pub async fn adapter_trait_round_trip<H: Harness>(h: &H) {
    async fn run<S: StorageAdapter>(s: &S) -> StoredTarget {
        s.init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
            .await
            .expect("init");
        let batch = upserts(
            (0..5).map(|n| player(n, 1)).collect(),
            1,
            Some(cursor("x", 3)),
        );
        s.commit(&batch).await.expect("commit");
        assert_eq!(
            s.sync_state(TARGET).await.expect("state"),
            Some(cursor("x", 3))
        );
        s.load(TARGET).await.expect("load")
    }
    let name = h.unique("adapter_trait");
    let storage = h.storage(&name);
    let data = sorted(run(&storage).await);
    assert_eq!(data.models.len(), 5);
    assert_eq!(data.ledger.len(), 5);
    let mismatch = StorageAdapter::init(&storage, &fingerprint("manifest-hash:v1:bb"), "1.0.0")
        .await
        .expect_err("mismatch");
    assert_eq!(
        mismatch.kind,
        StorageErrorKind::SchemaMismatch {
            stored_hash: "manifest-hash:v1:aa".into(),
            manifest_hash: "manifest-hash:v1:bb".into()
        }
    );
    storage.close();
    h.cleanup(&name).await;
}

/// Data and cursor survive closing the connection and opening a new one.
pub async fn persists_across_close_and_reopen<H: Harness>(h: &H) {
    let name = h.unique("reopen");
    let storage = opened(h, &name).await;
    let mut reference = Reference::default();
    for round in 0..5u64 {
        let batch = upserts(
            (round * 20..round * 20 + 30)
                .map(|n| player(n, round as u32))
                .collect(),
            round + 1,
            Some(cursor(&format!("c{round}"), round)),
        );
        storage.commit(&batch).await.expect("commit");
        reference.apply(&batch);
    }
    storage.close();
    assert!(matches!(
        storage.load(TARGET).await,
        Err(StoreError::NotInitialized)
    ));
    let again = opened(h, &name).await;
    assert_eq!(load(&again).await, reference.expected());
    // And it keeps working after the reopen.
    let batch = upserts(vec![player(1000, 5)], 9, Some(cursor("after", 9)));
    again.commit(&batch).await.expect("commit after reopen");
    reference.apply(&batch);
    again.close();
    let third = opened(h, &name).await;
    assert_eq!(load(&third).await, reference.expected());
    third.close();
    h.cleanup(&name).await;
}

/// A batch interrupted before its transaction commits leaves neither its entities nor its
/// cursor behind, and the storage goes on working.
pub async fn interrupted_batch_leaves_neither_entities_nor_cursor<H: Harness>(h: &H) {
    let name = h.unique("interrupted");
    let storage = opened(h, &name).await;
    let first = upserts(
        (0..20).map(|n| player(n, 1)).collect(),
        1,
        Some(cursor("page-1", 1)),
    );
    storage.commit(&first).await.expect("first commit");
    let mut reference = Reference::default();
    reference.apply(&first);

    let mut second = upserts(
        (10..40).map(|n| player(n, 2)).collect(),
        2,
        Some(cursor("page-2", 2)),
    );
    second.deletions.push(ModelKey {
        entity: id(0),
        model: "arena-Player".into(),
    });
    storage
        .backend()
        .faults()
        .inject(Fault::InterruptBeforeCommit);
    let error = storage.commit(&second).await.expect_err("interrupted");
    assert!(matches!(error, StoreError::Aborted { .. }), "{error:?}");

    // Neither this connection nor a new one sees any of it.
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    let again = opened(h, &name).await;
    assert_eq!(load(&again).await, reference.expected());
    assert_eq!(
        again.sync_state(TARGET).await.expect("state"),
        Some(cursor("page-1", 1))
    );

    // Retrying the same batch works.
    again.commit(&second).await.expect("retry");
    reference.apply(&second);
    assert_eq!(load(&again).await, reference.expected());
    again.close();
    h.cleanup(&name).await;
}

/// A write refused for lack of quota is a typed error and stores nothing.
pub async fn quota_exceeded_is_typed_and_stores_nothing<H: Harness>(h: &H) {
    let name = h.unique("quota");
    let storage = opened(h, &name).await;
    let first = upserts(vec![player(1, 1)], 1, Some(cursor("a", 1)));
    storage.commit(&first).await.expect("commit");
    storage.backend().faults().inject(Fault::QuotaExceeded);
    let error = storage
        .commit(&upserts(vec![player(2, 2)], 2, Some(cursor("b", 2))))
        .await
        .expect_err("quota");
    assert!(
        matches!(error, StoreError::QuotaExceeded { .. }),
        "{error:?}"
    );
    let mut reference = Reference::default();
    reference.apply(&first);
    assert_eq!(load(&storage).await, reference.expected());
    let core: dojo_reactive_core::sync::StorageError = error.into();
    assert_eq!(core.kind, StorageErrorKind::QuotaExceeded);
    assert!(core.message.contains("quota"), "{}", core.message);
    storage.close();
    h.cleanup(&name).await;
}

/// Another manifest is a schema mismatch; only another Torii version is a version change that
/// the host may accept.
pub async fn schema_mismatch_and_torii_version_changed<H: Harness>(h: &H) {
    let name = h.unique("fingerprint");
    let storage = h.storage(&name);
    let hash = storage
        .init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
        .await
        .expect("init");
    assert_eq!(hash, "manifest-hash:v1:aa");
    storage
        .commit(&upserts(vec![player(1, 1)], 1, None))
        .await
        .expect("commit");
    storage.close();

    let other = h.storage(&name);
    let error = other
        .init(&fingerprint("manifest-hash:v1:bb"), "1.0.0")
        .await
        .expect_err("mismatch");
    assert_eq!(
        error,
        StoreError::SchemaMismatch(SchemaMismatchError {
            manifest_hash: "manifest-hash:v1:bb".into(),
            stored_hash: "manifest-hash:v1:aa".into(),
        })
    );
    assert!(matches!(
        other.load(TARGET).await,
        Err(StoreError::NotInitialized)
    ));
    let error = other
        .init(&fingerprint("manifest-hash:v1:aa"), "1.1.0")
        .await
        .expect_err("version");
    assert_eq!(
        error,
        StoreError::ToriiVersionChanged(ToriiVersionChangedError {
            previous: "1.0.0".into(),
            current: "1.1.0".into(),
        })
    );
    other.accept_torii_version("1.1.0").await.expect("accept");
    assert_eq!(load(&other).await.models.len(), 1);
    other.close();
    let third = h.storage(&name);
    third
        .init(&fingerprint("manifest-hash:v1:aa"), "1.1.0")
        .await
        .expect("accepted version persists");
    third.close();
    h.cleanup(&name).await;
}

/// `reset` drops data, fingerprint and version: a different manifest then initialises.
pub async fn reset_drops_everything<H: Harness>(h: &H) {
    let name = h.unique("reset");
    let storage = opened(h, &name).await;
    storage
        .commit(&upserts(vec![player(1, 1)], 1, Some(cursor("c", 1))))
        .await
        .expect("commit");
    storage.reset().await.expect("reset");
    assert!(matches!(
        storage.load(TARGET).await,
        Err(StoreError::NotInitialized)
    ));
    storage
        .init(&fingerprint("manifest-hash:v1:other"), "2.0.0")
        .await
        .expect("init after reset");
    assert_eq!(load(&storage).await, StoredTarget::default());
    storage.close();
    h.cleanup(&name).await;
}

/// Deleted models disappear while their tombstone versions stay; prune forgets both.
pub async fn deletions_tombstones_and_prune<H: Harness>(h: &H) {
    let name = h.unique("deletions");
    let storage = opened(h, &name).await;
    let mut reference = Reference::default();
    let first = upserts(
        (0..10)
            .map(|n| player(n, 1))
            .chain((0..10).map(item))
            .collect(),
        1,
        None,
    );
    storage.commit(&first).await.expect("commit");
    reference.apply(&first);
    let mut deletion = SyncBatch::new(TARGET);
    for n in 0..5 {
        let key = ModelKey {
            entity: id(n),
            model: "arena-Player".into(),
        };
        deletion.ledger.push(LedgerEntry {
            entity: key.entity,
            model: key.model.clone(),
            version: tombstone(2),
        });
        deletion.deletions.push(key);
    }
    storage.commit(&deletion).await.expect("delete");
    reference.apply(&deletion);
    let data = load(&storage).await;
    assert_eq!(data, reference.expected());
    assert_eq!(data.models.len(), 15);
    assert_eq!(
        data.ledger
            .iter()
            .filter(|e| e.version.state == StateKind::Deleted)
            .count(),
        5
    );
    // Items of deleted players are untouched.
    assert_eq!(
        storage.get(TARGET, &[id(0)]).await.expect("get").models,
        vec![item(0)]
    );

    let pruned: Vec<ModelKey> = (0..3)
        .map(|n| ModelKey {
            entity: id(n),
            model: "arena-Player".into(),
        })
        .collect();
    storage.prune(TARGET, &pruned).await.expect("prune");
    reference.prune(&pruned);
    assert_eq!(load(&storage).await, reference.expected());
    storage.compact(TARGET, true).await.expect("compact");
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    let again = opened(h, &name).await;
    assert_eq!(load(&again).await, reference.expected());
    again.close();
    h.cleanup(&name).await;
}

/// Many small overlapping batches with deletions and prunes, compacting as they go: the
/// stored state always equals the reference, before and after a reopen.
pub async fn compaction_preserves_state<H: Harness>(h: &H) {
    let name = h.unique("compaction");
    let config = CompactionConfig {
        page_bytes: 4 * 1024,
        small_segment_bytes: 2 * 1024,
        max_small_segments: 4,
        min_live_ratio: 0.5,
    };
    let storage = h.storage_with(&name, config);
    storage
        .init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
        .await
        .expect("init");
    let mut reference = Reference::default();
    // A batch larger than a page is stored as several records, in one transaction.
    let big = upserts(
        (100..140).map(|n| player(n, 1)).collect(),
        1,
        Some(cursor("big", 0)),
    );
    storage.commit(&big).await.expect("big commit");
    reference.apply(&big);
    let split = storage.stats(TARGET).expect("stats");
    assert!(
        split.deltas >= 3,
        "a 12 KB batch was not split into 4 KB records: {split:?}"
    );
    assert_eq!(load(&storage).await, reference.expected());
    let mut seq = 1;
    for round in 0..40u64 {
        seq += 1;
        let ids = (0..6).map(|i| (round * 3 + i * 5) % 60);
        let mut batch = upserts(
            ids.map(|n| player(n, (round * 10) as u32)).collect(),
            seq,
            Some(cursor("c", round)),
        );
        if round % 5 == 4 {
            for n in [round % 60, (round + 17) % 60] {
                batch.upserts.retain(|r| r.entity != id(n));
                batch.ledger.retain(|e| e.entity != id(n));
                batch.deletions.push(ModelKey {
                    entity: id(n),
                    model: "arena-Player".into(),
                });
                batch.ledger.push(LedgerEntry {
                    entity: id(n),
                    model: "arena-Player".into(),
                    version: tombstone(seq),
                });
            }
        }
        storage.commit(&batch).await.expect("commit");
        assert_eq!(storage.compaction_error(), None);
        reference.apply(&batch);
        if round % 13 == 12 {
            let keys = vec![ModelKey {
                entity: id(round % 60),
                model: "arena-Player".into(),
            }];
            storage.prune(TARGET, &keys).await.expect("prune");
            reference.prune(&keys);
        }
        if round % 8 == 7 {
            assert_eq!(load(&storage).await, reference.expected(), "round {round}");
        }
    }
    let stats = storage.stats(TARGET).expect("stats");
    assert!(stats.pages > 0, "compaction never ran: {stats:?}");
    assert!(stats.deltas < 10, "deltas were not folded: {stats:?}");
    assert_eq!(load(&storage).await, reference.expected());
    let forced = storage
        .compact(TARGET, true)
        .await
        .expect("forced compaction");
    assert!(forced.merged > 0);
    let after = storage.stats(TARGET).expect("stats");
    assert_eq!(after.deltas, 0);
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    let again = h.storage_with(&name, config);
    again
        .init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
        .await
        .expect("init");
    assert_eq!(load(&again).await, reference.expected());
    again.close();
    h.cleanup(&name).await;
}

/// A corrupt segment, a foreign value and a corrupt cursor are skipped and reported; everything
/// else loads, and nothing panics.
pub async fn corrupt_records_are_skipped_and_reported<H: Harness>(h: &H) {
    corrupt_records_case(h).await;
}

/// The undecoded segments of a start-up (what the worker sends the view), replayed in order,
/// give exactly the stored states, across updates and a compaction.
pub async fn raw_segments_replay_to_the_stored_states<H: Harness>(h: &H) {
    let name = h.unique("raw");
    let storage = opened(h, &name).await;
    for round in 0..5u64 {
        // Overlapping rounds: later ones update half of the earlier entities.
        let batch = upserts(
            (round * 5..round * 5 + 10)
                .map(|n| player(n, round as u32))
                .collect(),
            round + 1,
            None,
        );
        storage.commit(&batch).await.expect("commit");
        if round == 2 {
            storage.compact(TARGET, true).await.expect("compact");
        }
    }
    storage.close();
    let again = opened(h, &name).await;
    let mut segments = Vec::new();
    let states = again
        .scan_raw(TARGET, &mut |bytes| segments.push(bytes.to_vec()))
        .await
        .expect("scan");
    let mut replayed = BTreeMap::new();
    for bytes in &segments {
        let (target, changes) = decode_state_changes(bytes).expect("a sent segment decodes");
        assert_eq!(target, TARGET);
        for change in changes {
            match change {
                StateChange::Upsert(record) => {
                    replayed.insert((record.entity, record.state.name.clone()), record);
                }
                StateChange::Delete(key) => {
                    replayed.remove(&(key.entity, key.model));
                }
            }
        }
    }
    let stored = load(&again).await;
    assert_eq!(states, stored.models.len());
    assert_eq!(states, 30);
    assert_eq!(
        sorted(StoredTarget {
            models: replayed.into_values().map(Into::into).collect(),
            ..stored.clone()
        }),
        stored
    );
    again.close();
    h.cleanup(&name).await;
}

async fn corrupt_records_case<H: Harness>(h: &H) {
    let name = h.unique("corrupt");
    let storage = opened(h, &name).await;
    let mut kept = Reference::default();
    for round in 0..4u64 {
        let batch = upserts(
            (round * 10..round * 10 + 10)
                .map(|n| player(n, 1))
                .collect(),
            round + 1,
            None,
        );
        storage.commit(&batch).await.expect("commit");
        if round != 1 && round != 2 {
            kept.apply(&batch);
        }
    }
    storage.close();
    let raw = opened(h, &name).await;
    let backend = raw.backend();
    // Segment 1: flipped bytes (checksum mismatch). Segment 2: not bytes at all.
    let mut garbage = vec![b'D', b'R', b'S', 1, 0, 0];
    garbage.extend((0..200u32).map(|i| (i * 37 % 251) as u8));
    backend
        .write_raw(RecordKey::Segment(TARGET, 1), Ok(garbage))
        .await
        .expect("plant");
    backend
        .write_raw(RecordKey::Segment(TARGET, 2), Err("{\"a\":1}".into()))
        .await
        .expect("plant");
    backend
        .write_raw(RecordKey::SyncState(TARGET), Ok(vec![1, 2, 3]))
        .await
        .expect("plant");
    raw.close();

    let storage = opened(h, &name).await;
    let loaded = storage.load(TARGET).await.expect("load");
    let mut data = loaded.data;
    // The synchronizer hears of each skipped record through the adapter's `StoredTarget`.
    assert_eq!(data.skipped.len(), 3, "{:?}", data.skipped);
    assert!(
        data.skipped
            .iter()
            .all(|m| m.starts_with("entities/") || m.starts_with("sync_meta/")),
        "{:?}",
        data.skipped
    );
    data.skipped.clear();
    assert_eq!(sorted(data), kept.expected());
    let keys: Vec<&str> = loaded.skipped.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(loaded.skipped.len(), 3, "{:?}", loaded.skipped);
    assert!(keys.iter().any(|k| k.contains("entities, 1]")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains("entities, 2]")), "{keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("sync_meta")), "{keys:?}");
    assert!(loaded
        .skipped
        .iter()
        .any(|s| matches!(s.error, StoreError::Corrupt { .. })));
    assert!(loaded
        .skipped
        .iter()
        .any(|s| matches!(s.error, StoreError::Foreign { .. })));
    assert_eq!(storage.take_skipped().len(), 3);
    // A start-up that ships undecoded segments sends only the readable ones.
    let mut sent = Vec::new();
    let states = storage
        .scan_raw(TARGET, &mut |bytes| sent.push(bytes.to_vec()))
        .await
        .expect("scan");
    assert_eq!(sent.len(), 2, "the two readable segments");
    assert!(sent.iter().all(|bytes| decode_state_changes(bytes).is_ok()));
    assert_eq!(states, kept.expected().models.len());
    assert_eq!(storage.take_skipped().len(), 2, "the unreadable segments");
    // Writing goes on, and compaction removes the unreadable segments.
    storage
        .commit(&upserts(vec![player(500, 5)], 9, Some(cursor("fresh", 1))))
        .await
        .expect("commit");
    kept.apply(&upserts(vec![player(500, 5)], 9, Some(cursor("fresh", 1))));
    storage.compact(TARGET, true).await.expect("compact");
    assert_eq!(load(&storage).await, kept.expected());
    storage.close();
    h.cleanup(&name).await;
}

/// Everything but `init` and `reset` needs `init` first.
pub async fn use_before_init_is_an_error<H: Harness>(h: &H) {
    let name = h.unique("before_init");
    let storage = h.storage(&name);
    assert_eq!(
        storage.load(TARGET).await.err(),
        Some(StoreError::NotInitialized)
    );
    assert_eq!(
        storage
            .commit(&upserts(vec![player(1, 1)], 1, None))
            .await
            .err(),
        Some(StoreError::NotInitialized)
    );
    assert_eq!(
        storage.sync_state(TARGET).await.err(),
        Some(StoreError::NotInitialized)
    );
    let core = StorageAdapter::load(&storage, TARGET)
        .await
        .expect_err("not initialised");
    assert_eq!(core.kind, StorageErrorKind::NotInitialized);
    h.cleanup(&name).await;
}

/// Point reads by id and ordered range reads see the latest writes only.
pub async fn get_and_range_reads<H: Harness>(h: &H) {
    let name = h.unique("reads");
    let storage = opened(h, &name).await;
    let batch = upserts(
        (0..100)
            .map(|n| player(n, 1))
            .chain((0..100).step_by(10).map(item))
            .collect(),
        1,
        None,
    );
    storage.commit(&batch).await.expect("commit");
    let update = upserts(vec![player(7, 99)], 2, None);
    storage.commit(&update).await.expect("update");

    let got = storage
        .get(TARGET, &[id(7), id(10), id(12345)])
        .await
        .expect("get");
    assert_eq!(got.models, {
        let mut m = vec![player(7, 99), player(10, 1), item(10)];
        m.sort_by(|a, b| (a.entity, a.model()).cmp(&(b.entity, b.model())));
        m
    });
    assert_eq!(got.ledger.len(), 3);
    assert!(got
        .ledger
        .iter()
        .any(|e| e.entity == id(7) && e.version == write_version(2)));

    // Iterate everything in pages of 30 entities.
    let mut all = Vec::new();
    let mut from = Felt::ZERO;
    let end = Felt([0xff; 32]);
    loop {
        let page = storage.range(TARGET, &from, &end, 30).await.expect("range");
        let Some(last) = page.models.iter().map(|m| m.entity).max() else {
            break;
        };
        let mut next = last.0;
        for byte in next.iter_mut().rev() {
            let (value, carry) = byte.overflowing_add(1);
            *byte = value;
            if !carry {
                break;
            }
        }
        all.extend(page.models);
        from = Felt(next);
    }
    assert_eq!(all.len(), 110);
    assert!(all.windows(2).all(|w| w[0].entity <= w[1].entity));
    let mut ids: Vec<EntityId> = all.iter().map(|m| m.entity).collect();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    storage.close();
    h.cleanup(&name).await;
}

/// A deploy that changed one model keeps the stored data of the others: `open` only reports
/// what differs (a tab that does not write changes nothing); the writer's `adopt_manifest`
/// drops the changed model's states and ledger entries, records the new fingerprint, and makes
/// the next start a full replay (no catch-up from the stored newest timestamp).
pub async fn a_manifest_change_keeps_the_unchanged_models<H: Harness>(h: &H) {
    let name = h.unique("manifest_change");
    let before = models_fingerprint(
        "manifest-hash:v1:aa",
        &[("arena-Item", "i1"), ("arena-Player", "p1")],
    );
    let storage = h.storage(&name);
    let first = storage.open(&before, &origin()).await.expect("open");
    assert_eq!(
        (first.torii_version, first.stored, first.changes),
        (None, None, Vec::new())
    );
    assert!(storage
        .adopt_manifest(&before, &origin())
        .await
        .expect("adopt")
        .is_empty());
    storage.init(&before, "1.0.0").await.expect("init");
    let mut state = cursor("c", 3);
    state.cursor = None;
    state.snapshot_complete = true;
    let batch = upserts(
        (0..10)
            .map(|n| player(n, 5))
            .chain((0..4).map(item))
            .collect(),
        1,
        Some(state.clone()),
    );
    storage.commit(&batch).await.expect("commit");
    // An event log holding events of both models, walked.
    let (mut events, _) = EventStore::load(storage.backend()).await.expect("load");
    let mut log = EventLog::new(EventRetention::default());
    for (n, tag) in ["arena-Item", "arena-Player", "arena-Item"]
        .into_iter()
        .enumerate()
    {
        let row = IncomingEvent {
            entity: Felt::from(n as u128),
            state: Struct {
                name: tag.into(),
                members: Vec::new(),
            },
            executed_at: 10 + n as u64,
            created_at: 10 + n as u64,
            world_address: Felt::from(1u128),
        };
        let change = log.apply(&mut Delivery::new(), vec![row], Placement::Arrival, 0);
        let mut ops = events.append("feed", &change, &log).expect("encode");
        ops.push(events.mark_walked("feed", "digest"));
        storage.backend().write(ops).await.expect("write events");
    }
    storage.close();

    // The item model changed, a model was added, the player model is as it was.
    let after = models_fingerprint(
        "manifest-hash:v1:bb",
        &[
            ("arena-Item", "i2"),
            ("arena-New", "n1"),
            ("arena-Player", "p1"),
        ],
    );
    let deployed = h.storage(&name);
    let opened = deployed
        .open(&after, &origin())
        .await
        .expect("open after the deploy");
    assert_eq!(opened.torii_version.as_deref(), Some("1.0.0"));
    assert_eq!(opened.stored.as_ref(), Some(&before));
    // Opening wrote nothing: everything is still there, the old manifest still recorded.
    assert_eq!(load(&deployed).await.models.len(), 14);
    let synchronizer = h.storage(&name);
    assert!(
        matches!(
            synchronizer.init(&after, "1.0.0").await,
            Err(StoreError::SchemaMismatch(_))
        ),
        "nothing syncs under the new manifest before the writer adopted it"
    );
    synchronizer.close();
    let changes = deployed
        .adopt_manifest(&after, &origin())
        .await
        .expect("the writer adopts the new manifest");
    assert_eq!(changes, opened.changes);
    assert_eq!(
        opened.changes,
        vec![
            FingerprintChange::Changed {
                tag: "arena-Item".into()
            },
            FingerprintChange::Added {
                tag: "arena-New".into()
            },
        ]
    );
    let loaded = load(&deployed).await;
    let mut reference = Reference::default();
    reference.apply(&upserts((0..10).map(|n| player(n, 5)).collect(), 1, None));
    let mut expected = reference.expected();
    state.last_timestamp = None;
    expected.sync_state = Some(state);
    assert_eq!(
        loaded, expected,
        "the players stay, the items are gone, a replay is due"
    );
    let (events, stored) = EventStore::load(deployed.backend()).await.expect("load");
    let models: Vec<&str> = stored.logs["feed"].iter().map(|e| e.model()).collect();
    assert_eq!(models, ["arena-Player"], "the items' events are gone too");
    assert_eq!(events.walked("feed"), None, "the log is walked again");
    // The new fingerprint is recorded: the same manifest opens without changes, and the
    // synchronizer's `init` with it passes.
    deployed
        .init(&after, "1.0.0")
        .await
        .expect("init after the deploy");
    deployed.close();
    let again = h.storage(&name);
    let reopened = again.open(&after, &origin()).await.expect("open again");
    assert!(reopened.changes.is_empty());
    assert_eq!(load(&again).await.models.len(), 10);
    again.close();
    h.cleanup(&name).await;
}

/// A database records the world and Torii its data comes from: another one is refused before
/// anything is read or written; `require_replay` only drops the catch-up hint.
pub async fn a_database_of_another_world_is_refused<H: Harness>(h: &H) {
    let name = h.unique("origin");
    let fingerprint = fingerprint("manifest-hash:v1:aa");
    let storage = h.storage(&name);
    storage.open(&fingerprint, &origin()).await.expect("open");
    storage
        .adopt_manifest(&fingerprint, &origin())
        .await
        .expect("the writer records the origin");
    storage
        .commit(&upserts(vec![player(1, 1)], 1, Some(cursor("c", 1))))
        .await
        .expect("commit");
    storage.require_replay().await.expect("require a replay");
    let mut expected = cursor("c", 1);
    expected.last_timestamp = None;
    assert_eq!(
        storage.sync_state(TARGET).await.expect("state"),
        Some(expected)
    );
    storage.close();

    for other in [
        DataOrigin::new("http://127.0.0.1:8080", &Felt::from(0x8u128)),
        DataOrigin::new("http://127.0.0.1:9090", &Felt::from(0x7u128)),
    ] {
        let refused = h.storage(&name);
        let error = refused
            .open(&fingerprint, &other)
            .await
            .expect_err("another origin");
        assert_eq!(
            error,
            StoreError::OtherOrigin(OtherOriginError {
                stored: origin(),
                current: other,
            })
        );
        assert!(matches!(
            refused.load(TARGET).await,
            Err(StoreError::NotInitialized)
        ));
        refused.close();
    }
    let same = h.storage(&name);
    let spelled = DataOrigin::new("HTTP://127.0.0.1:8080/", &Felt::from(0x7u128));
    same.open(&fingerprint, &spelled)
        .await
        .expect("the same origin");
    assert_eq!(load(&same).await.models.len(), 1);
    same.close();
    h.cleanup(&name).await;
}

/// Two connections to one store (two tabs' workers): only the last to claim the writer record
/// writes; the other's commits fail with `LostLeadership` and store nothing, even though it was
/// never told (a frozen tab waking up). A lease claim waits until the holder is stale, except
/// over older code; a renewal after a takeover fails.
pub async fn one_writer_at_a_time<H: Harness>(h: &H) {
    let name = h.unique("writer");
    let first = opened(h, &name).await;
    let second = opened(h, &name).await;
    let me = |owner: &str, protocol| WriterId {
        owner: owner.to_owned(),
        protocol,
        manifest: "manifest-hash:v1:aa".to_owned(),
        switching: false,
    };
    let a = me("a", 2);
    let b = me("b", 2);
    assert_eq!(
        claim_writer(first.backend(), &a, ClaimRule::Always, 1_000.0).await,
        Ok(Claim::Won(1))
    );
    let one = upserts(vec![player(1, 1)], 1, Some(cursor("a", 1)));
    first.commit(&one).await.expect("the writer commits");
    assert_eq!(
        claim_writer(second.backend(), &b, ClaimRule::Always, 1_100.0).await,
        Ok(Claim::Won(2))
    );
    let refused = first
        .commit(&upserts(vec![player(2, 2)], 2, Some(cursor("b", 2))))
        .await
        .expect_err("the old writer is fenced");
    assert!(
        matches!(refused, StoreError::LostLeadership { epoch: 1, .. }),
        "{refused:?}"
    );
    let core: dojo_reactive_core::sync::StorageError = refused.into();
    assert_eq!(core.kind, StorageErrorKind::LostLeadership);
    assert!(
        renew_writer(first.backend(), 1, 1_200.0).await.is_err(),
        "a renewal after a takeover fails"
    );
    let mut reference = Reference::default();
    reference.apply(&one);
    assert_eq!(load(&second).await, reference.expected());

    // The lease: a fresh holder keeps it, a stale one loses it, older code never takes it.
    let lease = ClaimRule::IfStale { stale_ms: 1_500.0 };
    assert!(matches!(
        claim_writer(first.backend(), &a, lease, 2_000.0).await,
        Ok(Claim::Held(record)) if record.epoch == 2 && record.owner == "b"
    ));
    renew_writer(second.backend(), 2, 2_000.0)
        .await
        .expect("renewed");
    assert!(matches!(
        claim_writer(first.backend(), &me("old", 1), lease, 9_000.0).await,
        Ok(Claim::Won(3))
    ));
    assert!(
        matches!(
            claim_writer(second.backend(), &b, lease, 9_100.0).await,
            Ok(Claim::Won(4))
        ),
        "newer code takes over from older code at once"
    );
    assert!(
        matches!(
            claim_writer(first.backend(), &me("old", 1), lease, 9_200.0).await,
            Ok(Claim::Held(_))
        ),
        "older code never takes over from a live writer of newer code"
    );
    second
        .commit(&upserts(vec![player(3, 3)], 3, Some(cursor("c", 3))))
        .await
        .expect("the new writer commits");
    resign_writer(second.backend());
    assert!(matches!(
        second.commit(&upserts(vec![player(4, 4)], 4, None)).await,
        Err(StoreError::LostLeadership { .. })
    ));
    first.close();
    second.close();
    h.cleanup(&name).await;
}

/// Two code versions on one database (a deploy): once a writer of the new manifest claimed it,
/// a writer of the old manifest is refused, under a Web Lock or a lease, however stale the new
/// writer is; a writer Torii judged current (`switching`) replaces a writer of another manifest
/// at once. Opening with another manifest writes nothing.
pub async fn an_old_manifest_never_claims_over_a_new_one<H: Harness>(h: &H) {
    let name = h.unique("deploy_claim");
    let new = opened(h, &name).await;
    let old = h.storage(&name);
    let other = fingerprint("manifest-hash:v1:old");
    let reported = old.open(&other, &origin()).await.expect("open");
    assert_eq!(
        reported.stored.map(|f| f.hash).as_deref(),
        Some("manifest-hash:v1:aa")
    );
    let writer = |owner: &str, manifest: &str, switching| WriterId {
        owner: owner.to_owned(),
        protocol: 1,
        manifest: manifest.to_owned(),
        switching,
    };
    let newer = writer("new", "manifest-hash:v1:aa", false);
    let older = writer("old", "manifest-hash:v1:old", false);
    assert_eq!(
        claim_writer(new.backend(), &newer, ClaimRule::Always, 1_000.0).await,
        Ok(Claim::Won(1))
    );
    for rule in [ClaimRule::Always, ClaimRule::IfStale { stale_ms: 1_500.0 }] {
        assert!(
            matches!(
                claim_writer(old.backend(), &older, rule, 99_000.0).await,
                Ok(Claim::Held(record)) if record.owner == "new"
                    && record.manifest.as_deref() == Some("manifest-hash:v1:aa")
            ),
            "{rule:?}"
        );
    }
    new.commit(&upserts(vec![player(1, 1)], 1, None))
        .await
        .expect("the new writer still writes");
    // A tab Torii judged current takes over from a writer of another manifest, even a fresh
    // lease.
    let judged = writer("judged", "manifest-hash:v1:old", true);
    assert_eq!(
        claim_writer(
            old.backend(),
            &judged,
            ClaimRule::IfStale { stale_ms: 1_500.0 },
            1_100.0
        )
        .await,
        Ok(Claim::Won(2))
    );
    assert!(matches!(
        new.commit(&upserts(vec![player(2, 2)], 2, None)).await,
        Err(StoreError::LostLeadership { .. })
    ));
    new.close();
    old.close();
    h.cleanup(&name).await;
}

/// A batch's relay mark is stored in its transaction: a mark read back means its batch is
/// stored, an interrupted batch leaves the previous mark, and a target's mark is its own.
pub async fn relay_marks_are_stored_with_their_batch<H: Harness>(h: &H) {
    let name = h.unique("relay-mark");
    let storage = opened(h, &name).await;
    assert_eq!(storage.relay_mark(TARGET).await.expect("read"), None);
    let first = RelayMark { epoch: 2, n: 5 };
    storage
        .commit_relayed(&upserts(vec![player(1, 1)], 1, None), Some(first))
        .await
        .expect("first commit");
    assert_eq!(storage.relay_mark(TARGET).await.expect("read"), Some(first));

    storage
        .backend()
        .faults()
        .inject(Fault::InterruptBeforeCommit);
    let interrupted = storage
        .commit_relayed(
            &upserts(vec![player(2, 1)], 2, None),
            Some(RelayMark { epoch: 2, n: 6 }),
        )
        .await;
    assert!(interrupted.is_err(), "the fault fired");
    assert_eq!(
        storage.relay_mark(TARGET).await.expect("read"),
        Some(first),
        "an interrupted batch leaves the previous mark"
    );
    // A commit that relays nothing leaves the mark as it is.
    storage
        .commit(&upserts(vec![player(3, 1)], 3, None))
        .await
        .expect("unrelayed commit");
    storage.close();
    let again = opened(h, &name).await;
    assert_eq!(again.relay_mark(TARGET).await.expect("read"), Some(first));
    let mut segments = 0;
    let (_, scanned) = again
        .scan_raw_marked(TARGET, &mut |_| segments += 1)
        .await
        .expect("scan");
    assert_eq!(
        scanned,
        Some(first),
        "the scan reads the mark with the data"
    );
    assert!(segments > 0);
    assert_eq!(
        again
            .relay_mark(TargetKind::EventMessages)
            .await
            .expect("read"),
        None
    );
    again.close();
    h.cleanup(&name).await;
}
