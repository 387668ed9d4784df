//! The IndexedDB runner of the conformance suite, and the cases only IndexedDB has (migrations,
//! blocked upgrades, version checks, database names). Included by `browser.rs` (main thread)
//! and `worker.rs` (dedicated worker), which expand its macros.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use dojo_reactive_core::sync::TargetKind;
use dojo_reactive_core::Felt;
use dojo_reactive_storage::idb::{classify, Migration, MigrationFuture, Schema, UpgradeTx};
use dojo_reactive_storage::{
    default_db_name, delete_db, init_db, Backend, CompactionConfig, EventBatch, IndexedDbBackend,
    InitDbOptions, RecordKey, Storage, StoreError, WriteOp, ENTITIES, EVENT_LOG, METADATA,
    SYNC_META,
};
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbFactory, IdbOpenDbRequest};

use crate::conformance::{self, fingerprint, load, player, upserts, Harness, Reference, TARGET};

/// IndexedDB databases named uniquely per case, deleted afterwards.
pub struct Idb;

impl Harness for Idb {
    type B = IndexedDbBackend;

    fn storage_with(&self, name: &str, config: CompactionConfig) -> Storage<IndexedDbBackend> {
        Storage::with_config(IndexedDbBackend::new(name), config)
    }

    fn unique(&self, case: &str) -> String {
        format!("test-{case}-{}", (js_sys::Math::random() * 1e12) as u64)
    }

    async fn cleanup(&self, name: &str) {
        delete_db(name).await.expect("delete test database");
    }
}

/// Expands conformance cases into `wasm_bindgen_test`s on [`Idb`]:
/// `for_each_case!(conformance_on_idb)`.
#[macro_export]
macro_rules! conformance_on_idb {
    ($($case:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $case() {
                conformance::$case(&idb_suite::Idb).await;
            }
        )*
    };
}

/// Expands the IndexedDB-only cases into `wasm_bindgen_test`s.
#[macro_export]
macro_rules! idb_only_cases {
    () => {
        idb_only_cases!(
            migration_v1_to_v2_keeps_the_data,
            failed_migration_leaves_v1_intact_and_readable,
            blocked_upgrade_is_typed_and_recoverable,
            our_connection_steps_aside_for_an_upgrade,
            a_connection_closed_under_us_is_reopened,
            a_database_deleted_by_another_connection_is_not_recreated,
            a_database_gone_while_closed_is_not_recreated,
            newer_database_is_version_too_new,
            init_db_returns_the_hash_and_names_separate_worlds,
            dom_exceptions_map_to_typed_errors,
            the_event_log_migration_keeps_v1_data_and_stores_batches,
        );
    };
    ($($case:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $case() {
                idb_suite::$case().await;
            }
        )*
    };
}

// ---- helpers --------------------------------------------------------------------------------

fn factory() -> IdbFactory {
    Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .expect("indexedDB")
        .dyn_into()
        .expect("IDBFactory")
}

/// Opens a plain connection with no `versionchange` handler, like a tab running old code.
async fn raw_open(name: &str, version: u32) -> IdbDatabase {
    let request: IdbOpenDbRequest = factory().open_with_u32(name, version).expect("open");
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.expect("raw open");
    request
        .result()
        .expect("result")
        .dyn_into()
        .expect("IDBDatabase")
}

fn v2_copy(tx: UpgradeTx) -> MigrationFuture {
    Box::pin(async move {
        tx.create_store("v2_audit", &[])?;
        let records = tx.records(ENTITIES).await?;
        for (key, value) in &records {
            tx.put("v2_audit", key, value)?;
        }
        tx.put(
            METADATA,
            &JsValue::from_str("v2Copied"),
            &JsValue::from_f64(records.len() as f64),
        )?;
        Ok(())
    })
}

fn v2_fails_half_way(tx: UpgradeTx) -> MigrationFuture {
    Box::pin(async move {
        // Destructive work first: all of it must be rolled back.
        tx.clear(ENTITIES)?;
        tx.delete_store(SYNC_META)?;
        tx.create_store("v2_partial", &[])?;
        let _ = tx.records(METADATA).await?;
        Err("the v2 step failed half-way on purpose".into())
    })
}

fn schema_v2(run: fn(UpgradeTx) -> MigrationFuture) -> Schema {
    Schema::v1()
        .with(Migration {
            version: 2,
            description: "test-only v2",
            run,
        })
        .expect("v2 follows v1")
}

/// A v1 database holding some entities and a cursor; returns what it holds.
async fn seeded_v1(name: &str) -> Reference {
    let storage = open_with(name, Schema::v1()).await.expect("open v1");
    let mut reference = Reference::default();
    for round in 0..3u64 {
        let batch = upserts(
            (round * 40..round * 40 + 40)
                .map(|n| player(n, 7))
                .collect(),
            round + 1,
            Some(conformance::cursor("v1-cursor", round)),
        );
        storage.commit(&batch).await.expect("commit");
        reference.apply(&batch);
    }
    assert_eq!(storage.backend().version(), Some(1));
    storage.close();
    reference
}

async fn open_with(name: &str, schema: Schema) -> Result<Storage<IndexedDbBackend>, StoreError> {
    let storage = Storage::new(IndexedDbBackend::with_schema(name, schema));
    storage
        .init(&fingerprint("manifest-hash:v1:aa"), "1.0.0")
        .await
        .map(|_| storage)
}

// ---- IndexedDB-only cases -------------------------------------------------------------------

/// v1 → v2 runs the v2 step in the upgrade transaction and keeps every record.
pub async fn migration_v1_to_v2_keeps_the_data() {
    let name = Idb.unique("migrate");
    let reference = seeded_v1(&name).await;
    let storage = open_with(&name, schema_v2(v2_copy))
        .await
        .expect("upgrade to v2");
    assert_eq!(storage.backend().version(), Some(2));
    assert!(storage
        .backend()
        .store_names()
        .contains(&"v2_audit".to_owned()));
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    // Reopening at v2 runs nothing again.
    let again = open_with(&name, schema_v2(v2_copy))
        .await
        .expect("reopen v2");
    assert_eq!(load(&again).await, reference.expected());
    again.close();
    Idb.cleanup(&name).await;
}

/// The real v2 (the event logs' store) on a v1 database holding data: the entities, their
/// cursor and the manifest are still there, and the new store takes and returns event batches.
pub async fn the_event_log_migration_keeps_v1_data_and_stores_batches() {
    let name = Idb.unique("event_log_migration");
    let reference = seeded_v1(&name).await;
    let storage = open_with(&name, Schema::current())
        .await
        .expect("upgrade to the current schema");
    assert_eq!(
        storage.backend().version(),
        Some(dojo_reactive_storage::idb::SCHEMA_VERSION)
    );
    assert!(storage
        .backend()
        .store_names()
        .contains(&EVENT_LOG.to_owned()));
    assert_eq!(load(&storage).await, reference.expected());
    let batch = EventBatch {
        target: "feed".into(),
        ..EventBatch::default()
    };
    let bytes = dojo_reactive_storage::encode_event_batch(&batch).expect("encode");
    storage
        .backend()
        .write(vec![WriteOp::Put(RecordKey::EventBatch(3), bytes)])
        .await
        .expect("write a batch");
    storage.close();
    let again = open_with(&name, Schema::current()).await.expect("reopen");
    assert_eq!(load(&again).await, reference.expected());
    let batches = again.backend().read_event_batches().await.expect("read");
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].seq, Ok(3));
    let read = batches[0].value.as_deref().expect("bytes");
    assert_eq!(
        dojo_reactive_storage::decode_event_batch(read).expect("decode"),
        batch
    );
    again.close();
    Idb.cleanup(&name).await;
}

/// A v2 step that fails after destroying data aborts the upgrade: the database is still v1,
/// with every store and record it had.
pub async fn failed_migration_leaves_v1_intact_and_readable() {
    let name = Idb.unique("failed_migration");
    let reference = seeded_v1(&name).await;
    let error = open_with(&name, schema_v2(v2_fails_half_way))
        .await
        .err()
        .expect("the upgrade fails");
    match &error {
        StoreError::MigrationFailed { from, to, reason } => {
            assert_eq!((*from, *to), (1, 2));
            assert!(reason.contains("half-way"), "{reason}");
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    assert_eq!(
        dojo_reactive_core::sync::StorageError::from(error.clone()).kind,
        dojo_reactive_core::sync::StorageErrorKind::MigrationFailed
    );
    let storage = open_with(&name, Schema::v1())
        .await
        .expect("v1 still opens");
    assert_eq!(storage.backend().version(), Some(1));
    let stores = storage.backend().store_names();
    assert!(stores.contains(&SYNC_META.to_owned()), "{stores:?}");
    assert!(!stores.contains(&"v2_partial".to_owned()), "{stores:?}");
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    // And the good v2 still applies afterwards.
    let upgraded = open_with(&name, schema_v2(v2_copy)).await.expect("v2");
    assert_eq!(load(&upgraded).await, reference.expected());
    upgraded.close();
    Idb.cleanup(&name).await;
}

/// Another connection holding v1 open (and ignoring `versionchange`) blocks the upgrade: a
/// typed error, nothing changed; once it closes, the upgrade goes through with the data.
pub async fn blocked_upgrade_is_typed_and_recoverable() {
    let name = Idb.unique("blocked");
    let reference = seeded_v1(&name).await;
    let old_tab = raw_open(&name, 1).await;
    let error = open_with(&name, schema_v2(v2_copy))
        .await
        .err()
        .expect("blocked");
    assert_eq!(
        error,
        StoreError::Blocked {
            database: name.clone(),
            version: 2
        }
    );
    assert_eq!(
        dojo_reactive_core::sync::StorageError::from(error).kind,
        dojo_reactive_core::sync::StorageErrorKind::Blocked
    );
    old_tab.close();
    let storage = open_with(&name, schema_v2(v2_copy))
        .await
        .expect("upgrade once unblocked");
    assert_eq!(storage.backend().version(), Some(2));
    assert_eq!(load(&storage).await, reference.expected());
    storage.close();
    Idb.cleanup(&name).await;
}

/// Our own connections never block others: on `versionchange` they close; later calls reopen
/// once the upgrade is done, and since the database is now newer than this code, fail with
/// `VersionTooNew` instead of hanging.
pub async fn our_connection_steps_aside_for_an_upgrade() {
    let name = Idb.unique("steps_aside");
    let reference = seeded_v1(&name).await;
    let ours = open_with(&name, Schema::v1()).await.expect("v1");
    let newer = open_with(&name, schema_v2(v2_copy))
        .await
        .expect("v2 is not blocked by ours");
    assert_eq!(load(&newer).await, reference.expected());
    let error = ours.load(TARGET).await.err();
    assert!(
        matches!(error, Some(StoreError::VersionTooNew { supported: 1, .. })),
        "{error:?}"
    );
    newer.close();
    Idb.cleanup(&name).await;
}

/// Fires a synthetic event of `kind` at a connection, as the browser does.
fn fire(db: &IdbDatabase, kind: &str) {
    let event = web_sys::Event::new(kind).expect("event");
    db.dispatch_event(&event).expect("dispatch");
}

/// Whether a database of this name exists.
async fn exists(name: &str) -> bool {
    let factory = factory();
    let databases = Reflect::get(&factory, &JsValue::from_str("databases"))
        .expect("indexedDB.databases")
        .dyn_into::<js_sys::Function>()
        .expect("a function");
    let list = JsFuture::from(
        databases
            .call0(&factory)
            .expect("databases()")
            .dyn_into::<Promise>()
            .expect("a promise"),
    )
    .await
    .expect("database list");
    js_sys::Array::from(&list).iter().any(|info| {
        Reflect::get(&info, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == name)
    })
}

/// A connection the browser closed (`close` event: storage pressure, a disk error) is reopened
/// by the next call, which then succeeds with the data intact.
pub async fn a_connection_closed_under_us_is_reopened() {
    let name = Idb.unique("reopen");
    let mut reference = seeded_v1(&name).await;
    let ours = open_with(&name, Schema::v1()).await.expect("v1");
    let db = ours.backend().database().expect("open");
    fire(&db, "close");
    assert!(ours.backend().database().is_none(), "closed at once");
    let batch = upserts(vec![player(500, 9)], 9, None);
    ours.commit(&batch).await.expect("reopened for the write");
    reference.apply(&batch);
    assert_eq!(load(&ours).await, reference.expected());
    assert!(ours.backend().database().is_some());
    ours.close();
    Idb.cleanup(&name).await;
}

/// Another connection deletes the database (another tab's `reset()`): ours steps aside so the
/// deletion is not blocked, and never creates an empty database again under the running client.
pub async fn a_database_deleted_by_another_connection_is_not_recreated() {
    let name = Idb.unique("deleted");
    seeded_v1(&name).await;
    let ours = open_with(&name, Schema::v1()).await.expect("v1");
    delete_db(&name)
        .await
        .expect("the deletion is not blocked by ours");
    let batch = upserts(vec![player(1, 1)], 1, None);
    let error = ours.commit(&batch).await.err();
    assert!(
        matches!(error, Some(StoreError::Deleted { .. })),
        "{error:?}"
    );
    assert!(matches!(
        ours.load(TARGET).await.err(),
        Some(StoreError::Deleted { .. })
    ));
    assert!(!exists(&name).await, "not created again");
    ours.close();
}

/// The connection was closed and meanwhile the database vanished (site data cleared): the
/// reopen refuses to create an empty one.
pub async fn a_database_gone_while_closed_is_not_recreated() {
    let name = Idb.unique("gone");
    seeded_v1(&name).await;
    let ours = open_with(&name, Schema::v1()).await.expect("v1");
    let db = ours.backend().database().expect("open");
    fire(&db, "close");
    delete_db(&name).await.expect("delete");
    let error = ours.load(TARGET).await.err();
    assert!(
        matches!(error, Some(StoreError::Deleted { .. })),
        "{error:?}"
    );
    assert!(!exists(&name).await, "not created again");
    // Our own `init` after `close` is a new start: it may create the database.
    ours.close();
    let fresh = open_with(&name, Schema::v1()).await.expect("a new start");
    assert_eq!(load(&fresh).await.models.len(), 0);
    fresh.close();
    Idb.cleanup(&name).await;
}

/// A database written by newer code is refused with a typed error, untouched.
pub async fn newer_database_is_version_too_new() {
    let name = Idb.unique("too_new");
    let reference = seeded_v1(&name).await;
    open_with(&name, schema_v2(v2_copy))
        .await
        .expect("v2")
        .close();
    let error = open_with(&name, Schema::v1()).await.err().expect("too new");
    assert!(
        matches!(error, StoreError::VersionTooNew { supported: 1, .. }),
        "{error:?}"
    );
    let v2 = open_with(&name, schema_v2(v2_copy))
        .await
        .expect("v2 again");
    assert_eq!(load(&v2).await, reference.expected());
    v2.close();
    Idb.cleanup(&name).await;
}

/// `init_db` returns the manifest hash; two worlds on one Torii get two databases.
pub async fn init_db_returns_the_hash_and_names_separate_worlds() {
    let url = format!(
        "http://127.0.0.1:{}",
        (js_sys::Math::random() * 50000.0) as u32 + 1000
    );
    let world_a = Felt::from(0xaaaau128);
    let world_b = Felt::from(0xbbbbu128);
    let fp = fingerprint("manifest-hash:v1:aa");
    let a = init_db(InitDbOptions::for_world(
        &url,
        &world_a,
        fp.clone(),
        "1.0.0",
    ))
    .await
    .expect("world a");
    assert_eq!(a.manifest_hash, "manifest-hash:v1:aa");
    assert_eq!(a.db.backend().name(), default_db_name(&url, &world_a));
    a.db.commit(&upserts(vec![player(1, 1)], 1, None))
        .await
        .expect("commit");
    let b = init_db(InitDbOptions::for_world(&url, &world_b, fp, "1.0.0"))
        .await
        .expect("world b");
    assert_ne!(a.db.backend().name(), b.db.backend().name());
    assert_eq!(load(&b.db).await.models.len(), 0);
    assert_eq!(load(&a.db).await.models.len(), 1);
    let a_name = a.db.backend().name().to_owned();
    let b_name = b.db.backend().name().to_owned();
    a.db.reset().await.expect("reset a");
    b.db.close();
    Idb.cleanup(&b_name).await;
    let reopened = init_db(InitDbOptions::new(
        a_name.clone(),
        fingerprint("manifest-hash:v1:zz"),
        "9",
    ))
    .await
    .expect("a was dropped by reset");
    reopened.db.close();
    Idb.cleanup(&a_name).await;
}

/// Real DOMExceptions map onto the typed errors (the quota one is what a full disk raises).
pub async fn dom_exceptions_map_to_typed_errors() {
    let dom = |name: &str| {
        DomException::new_with_message_and_name("message", name).expect("DOMException")
    };
    assert!(matches!(
        classify(&dom("QuotaExceededError")),
        StoreError::QuotaExceeded { .. }
    ));
    assert!(matches!(
        classify(&dom("AbortError")),
        StoreError::Aborted { .. }
    ));
    assert_eq!(classify(&dom("InvalidStateError")), StoreError::Closed);
    assert!(matches!(classify(&dom("UnknownError")), StoreError::Io(_)));
    let _ = (TargetKind::Entities, Rc::new(RefCell::new(())));
}
